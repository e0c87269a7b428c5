using Bus.Capacity.Ledger;
using Bus.Contracts;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bus.Worker.Execution;

/// <summary>
/// Which GPU devices an attempt may use. The reservation script bound them in Redis, disjoint from every other
/// reservation of this worker; this reads them back. When Redis has no ids for the attempt (it was reserved in the
/// database while Redis was down, or Redis lost them), the worker picks free ones itself from the devices its
/// running attempts do not hold. Either way the attempt's ids are held here until it ends. They are also written to
/// the attempt's allocation row, where the job's detail shows them.
/// </summary>
public sealed class GpuBinding(ICapacityLedger ledger, NpgsqlDataSource dataSource, IOptions<WorkerOptions> options, ILogger<GpuBinding> logger)
{
    readonly Dictionary<(Guid, int), string[]> _held = [];
    readonly Lock _lock = new();

    public async Task<string[]> Bind(RunJob job)
    {
        if (job.Resources.Gpus == 0)
            return [];
        // Null too while Redis is down: then they are chosen here.
        var bound = await ledger.BoundGpus(job.WorkerId, job.JobId, job.Attempt);
        lock (_lock)
        {
            var taken = _held.Values.SelectMany(ids => ids).ToHashSet();
            if (bound is null || bound.Length != job.Resources.Gpus || bound.Any(taken.Contains))
                bound = options.Value.GpuDevices.Where(id => !taken.Contains(id)).Take(job.Resources.Gpus).ToArray();
            if (bound.Length < job.Resources.Gpus)
                throw new InvalidOperationException($"the job reserved {job.Resources.Gpus} GPUs, but only {bound.Length} are free here");
            _held[(job.JobId, job.Attempt)] = bound;
        }
        await Record(job, bound);
        return bound;
    }

    async Task Record(RunJob job, string[] ids)
    {
        try
        {
            await using var command = dataSource.CreateCommand(
                "UPDATE resource_allocations SET gpu_devices = $3 WHERE job_id = $1 AND attempt = $2");
            command.Parameters.AddWithValue(job.JobId);
            command.Parameters.AddWithValue(job.Attempt);
            command.Parameters.AddWithValue(ids);
            await command.ExecuteNonQueryAsync();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // The job still gets its devices; only its detail will not show them.
            logger.LogWarning(e, "Recording the GPUs of job {JobId} attempt {Attempt} failed", job.JobId, job.Attempt);
        }
    }

    public void Release(RunJob job)
    {
        lock (_lock)
            _held.Remove((job.JobId, job.Attempt));
    }
}
