using Bus.Infrastructure.Hosting;
using Npgsql;

namespace Bus.Gateway.Limits;

/// <summary>
/// The per-tenant cap on jobs Pending, Allocated or Running (<see cref="LimitOptions.MaxActiveJobsPerTenant"/>),
/// checked before a new requestId is claimed.
/// </summary>
/// <remarks>
/// A soft cap: the count and the claim are two statements, so submissions racing each other may overshoot by the
/// number in flight, and a job accepted but not yet written by the scheduler is not counted yet. It bounds a runaway
/// client, not an exact budget. A requestId the tenant already used is never refused: its retry must answer the same job.
/// </remarks>
public sealed class TenantQuota(NpgsqlDataSource dataSource, LastKnownGood<LimitOptions> limits)
{
    /// <summary>The result of a check: over it when <see cref="Active"/> has reached <see cref="Max"/>.</summary>
    public sealed record Usage(long Active, int Max)
    {
        public bool Exceeded => Active >= Max;
    }

    public async Task<Usage?> ExceededBy(string tenant, string requestId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT EXISTS (SELECT 1 FROM job_requests WHERE tenant = $1 AND request_id = $2),
                   (SELECT count(*) FROM jobs WHERE tenant = $1 AND current_state IN ('Pending', 'Allocated', 'Running'))
            """);
        command.Parameters.AddWithValue(tenant);
        command.Parameters.AddWithValue(requestId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        if (reader.GetBoolean(0))
            return null;
        var usage = new Usage(reader.GetInt64(1), limits.CurrentValue.MaxActiveJobsOf(tenant));
        return usage.Exceeded ? usage : null;
    }
}
