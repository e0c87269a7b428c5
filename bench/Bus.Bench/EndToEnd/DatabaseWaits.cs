using Npgsql;

namespace Bus.Bench.EndToEnd;

/// <summary>
/// What PostgreSQL's busy client backends wait on during the measured run: <c>pg_stat_activity</c> sampled every
/// 100 ms, each active backend counted under its wait event (<c>CPU</c> when it waits on nothing). Time spent waiting
/// costs no CPU, so the ledger's milliseconds miss it: this shows a lock or a WAL flush that commits queue behind.
/// </summary>
public sealed class DatabaseWaits(NpgsqlDataSource database)
{
    static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    readonly Dictionary<string, int> _seen = [];
    int _samples;

    /// <summary>Samples until cancelled.</summary>
    public async Task Sample(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await using var command = database.CreateCommand("""
                    SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity
                    WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()
                    """);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                    _seen[reader.GetString(0)] = _seen.GetValueOrDefault(reader.GetString(0)) + 1;
                _samples++;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public void Report()
    {
        var total = _seen.Values.Sum();
        Console.WriteLine($"{"  postgresql active backends",-34}{(_samples == 0 ? 0 : (double)total / _samples),10:F2}   " +
                          $"on average over {_samples} samples; waiting on: " +
                          string.Join(", ", _seen.OrderByDescending(w => w.Value).Take(6).Select(w => $"{w.Key} {100.0 * w.Value / total:F0}%")));
    }
}
