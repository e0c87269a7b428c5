namespace Bus.Hosting.Messaging;

/// <summary>
/// How consumers ride through an outage of PostgreSQL, Redis or RabbitMQ instead of faulting messages to an
/// <c>_error</c> queue. Bound from the <c>RideThrough</c> section; every service reads the same one.
/// </summary>
public sealed class RideThroughOptions
{
    public const string Section = "RideThrough";

    /// <summary>
    /// The longest outage a message is retried through, in memory and unacknowledged, before it faults. Default 3 min:
    /// the system promises to ride through 2 minutes of a server being away, and a stopped server takes a while more
    /// to start and be noticed (a chaos round that stopped PostgreSQL for 120 s faulted reports with a 2-minute window).
    /// Messages in flight when a server goes away wait for it; longer outages trip the kill switch (below), which stops
    /// taking new messages so the queue is kept, not dead-lettered.
    /// </summary>
    public TimeSpan OutageWindow { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// The longest pause between two retries of one message. Retries start at 10 ms and grow to this, so a conflict
    /// between two saga writes is retried at once and an outage is polled gently. Default 5 s.
    /// </summary>
    public TimeSpan MaxRetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a receive endpoint stays stopped after the kill switch tripped (messages still faulting for want of a
    /// server after <see cref="OutageWindow"/>), before it starts taking messages again. Default 30 s.
    /// </summary>
    public TimeSpan KillSwitchRestart { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a receive endpoint may stay stopped before <see cref="EndpointWatchdog"/> starts it (again, every
    /// such delay, until it reports Ready). Longer than <see cref="KillSwitchRestart"/>, so the kill switch's own
    /// restart comes first; an endpoint taking no message for longer than that pause is already unhealthy in
    /// <c>/health/ready</c>. Default 60 s.
    /// </summary>
    public TimeSpan RestartStoppedEndpointAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The retry intervals: growing from 10 ms to <see cref="MaxRetryInterval"/>, adding up to at least <see cref="OutageWindow"/>.</summary>
    public TimeSpan[] RetryIntervals()
    {
        var intervals = new List<TimeSpan>();
        var total = TimeSpan.Zero;
        var next = TimeSpan.FromMilliseconds(10);
        while (total < OutageWindow)
        {
            intervals.Add(next);
            total += next;
            next = TimeSpan.FromTicks(Math.Min(next.Ticks * 3, MaxRetryInterval.Ticks));
        }
        return [.. intervals];
    }
}
