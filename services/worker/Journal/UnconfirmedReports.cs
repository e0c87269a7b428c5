namespace Bus.Worker.Journal;

/// <summary>
/// At start, sends again every final report the previous process wrote but never had confirmed, and while the worker
/// runs, forgets ended attempts past their retention every few minutes.
/// </summary>
public sealed class UnconfirmedReports(AttemptJournal journal, ReportSender sender, TimeProvider clock, ILogger<UnconfirmedReports> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pending = journal.InState(AttemptRecord.Reported);
        if (pending.Count > 0)
            logger.LogInformation("Sending {Count} final reports the previous process had not got confirmed", pending.Count);
        foreach (var (jobId, attempt) in pending)
            if (journal.Report(jobId, attempt) is { } report)
                await sender.Resend(jobId, attempt, report, stoppingToken);

        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(5), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
            journal.Prune();
    }
}
