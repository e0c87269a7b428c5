using Bus.Contracts;
using Bus.Persistence.Jobs;
using Npgsql;

namespace Bus.Gateway.Jobs;

/// <summary>
/// Rebuilds a job's attempts from what the scheduler already stores: one reservation per placed attempt
/// (<c>resource_allocations</c>, or <c>resource_allocations_history</c> once archived) and every state change with
/// the attempt it belongs to (<c>job_transitions</c>). The current attempt takes its times and result from the job
/// row, which holds the worker's own report; earlier attempts show when the scheduler recorded each change.
/// </summary>
public sealed class JobAttempts(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyList<JobAttempt>> Of(JobDetails job, CancellationToken cancellationToken)
    {
        var attempts = new SortedDictionary<int, JobAttempt>();
        await using (var command = dataSource.CreateCommand("""
            SELECT attempt, worker_id, allocated_at, released_at FROM resource_allocations WHERE job_id = $1
            UNION ALL
            SELECT attempt, worker_id, allocated_at, released_at FROM resource_allocations_history WHERE job_id = $1
            """))
        {
            command.Parameters.AddWithValue(job.JobId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var attempt = reader.GetInt32(0);
                attempts[attempt] = new JobAttempt(attempt, reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), null,
                    reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3), null, null);
            }
        }

        await using (var command = dataSource.CreateCommand(
            "SELECT from_state, to_state, attempt, exit_code, error, at FROM job_transitions WHERE job_id = $1 ORDER BY xid, id"))
        {
            command.Parameters.AddWithValue(job.JobId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var (from, to, attempt, at) = (reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetFieldValue<DateTimeOffset>(5));
                int? exitCode = reader.IsDBNull(3) ? null : reader.GetInt32(3);
                var error = reader.IsDBNull(4) ? null : reader.GetString(4);
                if (to == JobStates.Running && attempts.TryGetValue(attempt, out var started))
                    attempts[attempt] = started with { StartedAt = at };
                // A move from a worker back to Pending is recorded after the retry took the next attempt number, so
                // the result it carries is the previous attempt's.
                else if (JobStates.OnWorker.Contains(from) && to == JobStates.Pending && attempts.TryGetValue(attempt - 1, out var retried))
                    attempts[attempt - 1] = retried with { FinishedAt = at, ExitCode = exitCode, Error = error };
                else if (JobStates.IsFinal(to) && attempts.TryGetValue(attempt, out var ended))
                    attempts[attempt] = ended with { FinishedAt = at, ExitCode = exitCode, Error = error };
            }
        }

        if (attempts.TryGetValue(job.Attempt, out var current) && job.WorkerId == current.WorkerId)
            attempts[job.Attempt] = current with
            {
                AllocatedAt = job.AllocatedAt ?? current.AllocatedAt,
                StartedAt = job.StartedAt ?? current.StartedAt,
                FinishedAt = job.FinishedAt ?? current.FinishedAt,
                ExitCode = JobStates.IsFinal(job.State) ? job.ExitCode : current.ExitCode,
                Error = JobStates.IsFinal(job.State) ? job.Error : current.Error,
            };
        return attempts.Values.ToList();
    }
}
