using Bus.Capacity.Ledger;
using Bus.Capacity.Workers;
using Bus.Contracts;
using Npgsql;

namespace Bus.Bench.Capacity;

/// <summary>
/// The fallback used while Redis is down: reserve on PostgreSQL alone with <see cref="DatabaseLedger"/>
/// (the worker's row lock, a SUM over its unreleased rows, the insert), release by marking the row. Runs in the SQL
/// benchmark's throwaway database, so the allocation table already holds its full history; the benchmark's own workers
/// have ids of their own, so the history's unreleased rows do not fill them.
/// </summary>
public sealed class DatabaseLedgerBenchmark(NpgsqlDataSource dataSource, BenchOptions options)
{
    static readonly ResourceVector OneJob = new(1, 256, 0);

    public async Task<(PairRun Loaded, PairRun Single)> Run()
    {
        var directory = new WorkerDirectory(dataSource);
        var ledger = new DatabaseLedger(dataSource);
        var workers = Enumerable.Range(1, options.Workers).Select(i => $"db-bench-worker-{i:D3}").ToArray();
        foreach (var id in workers)
            await directory.Join(new WorkerRegistration(id, new ResourceVector(64, 262_144, 0), 64, ["shell"], [], WorkerStatus.Ready),
                TimeSpan.FromMinutes(30));

        async Task<bool> Reserve(string worker, Guid job) =>
            (await ledger.Reserve(worker, job, 1, OneJob, DateTimeOffset.UtcNow)).Result == ReservationResult.Reserved;
        async Task<bool> Release(string worker, Guid job)
        {
            await ledger.Release(job, 1, DateTimeOffset.UtcNow);
            return true;
        }

        // Fewer pairs than the Lua runs: each is a transaction of several statements.
        var ops = Math.Max(1_000, options.Ops / 10);
        await PairRuns.Measure(workers, options.Tasks, Math.Max(200, options.WarmupOps / 10), Reserve, Release);
        var loaded = await PairRuns.Measure(workers, options.Tasks, ops, Reserve, Release);
        var single = await PairRuns.Measure(workers, 1, Math.Max(500, ops / 4), Reserve, Release);
        return (loaded, single);
    }
}
