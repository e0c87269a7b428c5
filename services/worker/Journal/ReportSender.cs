using Bus.Contracts;
using MassTransit;

namespace Bus.Worker.Journal;

/// <summary>
/// Sends an attempt's final report until the broker confirms it (publisher confirms are on, so a publish that
/// returns was confirmed). The report is written to the journal first, so if the worker stops before the confirm, the
/// next start sends it again (<see cref="UnconfirmedReports"/>). Retries back off from 100 ms to 5 s and go on
/// through any outage: a final report is the only record of what the attempt did.
/// </summary>
public sealed class ReportSender(AttemptJournal journal, IBus bus, TimeProvider clock, ILogger<ReportSender> logger)
{
    public async Task Send(Guid jobId, int attempt, object report, CancellationToken cancellationToken = default)
    {
        Record(jobId, attempt, report);
        await Resend(jobId, attempt, report, cancellationToken);
    }

    /// <summary>
    /// Writes the attempt's final report to the journal without sending it yet: from here on, a restarted worker
    /// sends it (releasing the reservation first) instead of counting the attempt lost.
    /// </summary>
    public void Record(Guid jobId, int attempt, object report) => journal.Reported(jobId, attempt, report);

    /// <summary>Sends a report the journal already holds, e.g. again for a redelivered RunJob.</summary>
    public async Task Resend(Guid jobId, int attempt, object report, CancellationToken cancellationToken = default)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        for (var tries = 1; ; tries++)
        {
            try
            {
                await bus.Publish(report, cancellationToken); // the non-generic overload: published as its runtime type
                journal.Confirmed(jobId, attempt);
                if (tries > 1)
                    logger.LogInformation("Report of job {JobId} attempt {Attempt} confirmed after {Tries} tries", jobId, attempt, tries);
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Sending the report of job {JobId} attempt {Attempt} failed ({Error}); trying again in {Delay}",
                    jobId, attempt, e.Message, delay);
            }
            await Task.Delay(delay, clock, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    /// <summary>Re-sends the stored final report of an attempt that ended here; false when there is none.</summary>
    public bool TryResendStored(Guid jobId, int attempt)
    {
        if (journal.Report(jobId, attempt) is not { } report)
            return false;
        _ = Task.Run(() => Resend(jobId, attempt, report));
        return true;
    }
}
