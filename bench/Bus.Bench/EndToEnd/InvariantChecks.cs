using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.Contracts;
using Bus.Persistence.Jobs;
using Npgsql;

namespace Bus.Bench.EndToEnd;

/// <summary>
/// What must hold whatever the speed: no worker ever over capacity (sampled during the run through the API), every
/// job completed exactly once, and Redis and PostgreSQL agreeing at the end (nothing left allocated in either).
/// </summary>
public sealed class InvariantChecks(HttpClient api, NpgsqlDataSource database)
{
    int _samples;
    readonly List<string> _violations = [];

    public int Samples => _samples;
    public IReadOnlyList<string> Violations => _violations;

    /// <summary>Samples every live worker every 100 ms until cancelled.</summary>
    public async Task SampleWorkers(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            foreach (var worker in (await api.GetFromJsonAsync<JsonArray>("/api/v1/workers", CancellationToken.None))!)
            {
                var (used, capacity) = ((int)worker!["used"]!["cpus"]!, (int)worker["capacity"]!["cpus"]!);
                var (running, slots) = ((int)worker["runningJobs"]!, (int)worker["maxConcurrentJobs"]!);
                if (used > capacity || running > slots)
                    _violations.Add($"{worker["workerId"]}: {used}/{capacity} cpus, {running}/{slots} jobs");
            }
            _samples++;
            try { await Task.Delay(100, stop); } catch (OperationCanceledException) { }
        }
    }

    /// <summary>Checks the end state of a run; adds a line per broken invariant.</summary>
    public async Task CheckEnd(string run, IReadOnlyList<JobTimes> jobs, int submitted)
    {
        if (jobs.Count != submitted)
            _violations.Add($"{submitted} jobs submitted, {jobs.Count} in the database");
        var notCompleted = jobs.Count(j => j.State != JobStates.Completed);
        if (notCompleted > 0)
            _violations.Add($"{notCompleted} jobs did not end Completed");
        var retried = jobs.Count(j => j.Attempt != 1);
        if (retried > 0)
            _violations.Add($"{retried} jobs needed more than one attempt");

        await using var allocations = database.CreateCommand($"""
            SELECT count(*), count(*) FILTER (WHERE NOT a.released)
            FROM resource_allocations a JOIN {JobColumns.Table} j ON j.{JobColumns.JobId} = a.job_id WHERE j.{JobColumns.RequestId} LIKE $1
            """);
        allocations.Parameters.AddWithValue(run + "-%");
        await using (var reader = await allocations.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            if (reader.GetInt64(0) != submitted)
                _violations.Add($"{reader.GetInt64(0)} allocation rows for {submitted} jobs (each should have exactly one)");
            if (reader.GetInt64(1) != 0)
                _violations.Add($"{reader.GetInt64(1)} allocations still unreleased in PostgreSQL");
        }
        foreach (var worker in (await api.GetFromJsonAsync<JsonArray>("/api/v1/workers"))!)
            if ((int)worker!["used"]!["cpus"]! != 0 || (int)worker["runningJobs"]! != 0)
                _violations.Add($"{worker["workerId"]} still holds {worker["used"]!["cpus"]} cpus in Redis");
    }
}
