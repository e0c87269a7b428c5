using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bus.Hosting.Messaging;

/// <summary>
/// Keeps every receive endpoint taking messages. MassTransit's kill switch (<see cref="RideThrough"/>) stops an
/// endpoint and starts it again after <see cref="RideThroughOptions.KillSwitchRestart"/>, but its restart is lost
/// when the endpoint reports Ready while the stop is still under way, as it can when the transport reconnects after
/// RabbitMQ came back (its Ready handler marks the switch started, and the restart timer, expecting it stopped, does
/// nothing): the endpoint stays stopped, its queue keeps its messages with no consumer, and the bus looks healthy. An endpoint still stopped
/// <see cref="RideThroughOptions.RestartStoppedEndpointAfter"/> after it stopped is started here. A faulted endpoint
/// (its transport reconnects by itself) is only logged, once. Either is unhealthy in <c>/health/ready</c> while it
/// has taken no message for longer than the kill switch's own pause.
/// </summary>
public sealed class EndpointWatchdog(
    IOptions<RideThroughOptions> options, IHostApplicationLifetime lifetime, TimeProvider clock, ILogger<EndpointWatchdog> log)
    : BackgroundService, IReceiveEndpointObserver, IHealthCheck
{
    enum Status { Ready, Stopped, Faulted, Starting }

    /// <param name="NotTakingSince">Since when it has taken no message: what <c>/health/ready</c> reports.</param>
    /// <param name="Since">Since when it has been in <paramref name="Status"/>, or since the last start tried.</param>
    sealed record Watched(IReceiveEndpoint Endpoint, Status Status, DateTimeOffset NotTakingSince, DateTimeOffset Since, bool Reported = false);

    readonly ConcurrentDictionary<Uri, Watched> _endpoints = new();

    TimeSpan After => options.Value.RestartStoppedEndpointAfter;

    public Task Ready(ReceiveEndpointReady ready) => Note(ready, Status.Ready);

    // Completed follows once the stop is done; until then the endpoint still counts as it was.
    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

    public Task Completed(ReceiveEndpointCompleted completed) => Note(completed, Status.Stopped);

    public Task Faulted(ReceiveEndpointFaulted faulted) => Note(faulted, Status.Faulted);

    Task Note(ReceiveEndpointEvent e, Status status)
    {
        var now = clock.GetUtcNow();
        _endpoints.AddOrUpdate(e.InputAddress, _ => new Watched(e.ReceiveEndpoint, status, now, now),
            (_, was) => status == Status.Ready || was.Status == Status.Ready
                ? new Watched(e.ReceiveEndpoint, status, now, now)
                // Still not taking messages. A stop counts from itself, so the kill switch's own pause comes first;
                // another fault in a run of faults changes nothing.
                : was with { Endpoint = e.ReceiveEndpoint, Status = status, Since = status == was.Status ? was.Since : now });
        return Task.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Max(After.Ticks / 4, TimeSpan.TicksPerSecond)), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
            Check(stoppingToken);
    }

    /// <summary>One pass: starts what stayed stopped, reports what stayed faulted.</summary>
    void Check(CancellationToken cancellationToken)
    {
        // The bus stops every endpoint when the service stops: those stay stopped.
        if (lifetime.ApplicationStopping.IsCancellationRequested)
            return;
        var now = clock.GetUtcNow();
        foreach (var (address, watched) in _endpoints)
        {
            if (watched.Status == Status.Ready || now - watched.Since < After)
                continue;
            if (watched.Status is Status.Stopped or Status.Starting)
            {
                log.LogWarning("Receive endpoint {Address} has taken no message since {Since:O} ({Status}): starting it",
                    address, watched.NotTakingSince, watched.Status.ToString().ToLowerInvariant());
                // Tried again after another delay if no Ready follows.
                _endpoints.TryUpdate(address, watched with { Status = Status.Starting, Since = now, Reported = true }, watched);
                try
                {
                    watched.Endpoint.Start(cancellationToken);
                }
                catch (InvalidOperationException e)
                {
                    // Started meanwhile by the kill switch, or its transport never stopped: it reports Ready by itself.
                    log.LogDebug(e, "Receive endpoint {Address} was already started", address);
                }
                catch (Exception e)
                {
                    // Whatever it is, the other endpoints still get their pass, and this one another try.
                    log.LogError(e, "Starting receive endpoint {Address} failed", address);
                }
            }
            else if (!watched.Reported)
            {
                log.LogWarning("Receive endpoint {Address} has taken no message since {Since:O} ({Status}); its transport keeps reconnecting",
                    address, watched.NotTakingSince, watched.Status);
                _endpoints.TryUpdate(address, watched with { Reported = true }, watched);
            }
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var stalled = _endpoints
            .Where(e => e.Value.Status != Status.Ready && now - e.Value.NotTakingSince >= options.Value.KillSwitchRestart)
            .Select(e => $"{e.Key.AbsolutePath.TrimStart('/')} {e.Value.Status.ToString().ToLowerInvariant()}, taking no message since {e.Value.NotTakingSince:O}")
            .Order()
            .ToList();
        return Task.FromResult(stalled.Count == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"not taking messages: {string.Join("; ", stalled)}"));
    }
}
