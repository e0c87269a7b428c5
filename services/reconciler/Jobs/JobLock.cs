using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Quartz;

namespace Bus.Reconciler.Jobs;

/// <summary>
/// Runs each reconciler job on one reconciler instance at a time, however many run: the run holds a PostgreSQL
/// session advisory lock named after the job, on a connection of its own, and an instance that cannot take the
/// lock skips that run. If the holder dies, PostgreSQL ends its session and the lock goes with it.
/// </summary>
public sealed class JobLock(NpgsqlDataSource dataSource, ILogger<JobLock> logger)
{
    /// <summary>Runs <paramref name="work"/> if no other instance is running <paramref name="job"/>. False when skipped.</summary>
    public async Task<bool> RunAlone(JobKey job, Func<CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        await using var held = await TryAcquire(job, cancellationToken);
        if (held is null)
        {
            logger.LogDebug("Skipped {Job}: another reconciler instance is running it", job);
            return false;
        }
        await work(cancellationToken);
        return true;
    }

    /// <summary>Takes the job's lock, or returns null at once when another session holds it. Dispose to release.</summary>
    public async Task<IAsyncDisposable?> TryAcquire(JobKey job, CancellationToken cancellationToken)
    {
        var key = KeyOf(job);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection);
            command.Parameters.AddWithValue(key);
            if ((bool)(await command.ExecuteScalarAsync(cancellationToken))!)
                return new Held(connection, key, logger);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        await connection.DisposeAsync();
        return null;
    }

    // The same 64-bit key in every process; string.GetHashCode is randomised per process, so it would not do.
    static long KeyOf(JobKey job) =>
        BinaryPrimitives.ReadInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes($"bus:reconciler:{job}")));

    sealed class Held(NpgsqlConnection connection, long key, ILogger logger) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                // Unlock explicitly: closing only returns the connection to the pool, and its session would keep
                // the lock. No cancellation token, so a shutting-down host still lets go.
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", connection);
                command.Parameters.AddWithValue(key);
                await command.ExecuteScalarAsync();
            }
            catch (Exception e)
            {
                // Most likely the connection broke, which ended the session and its lock already. Logged, not
                // thrown, so it does not hide the job's own exception.
                logger.LogWarning(e, "Could not release job lock {Key}", key);
            }
            finally
            {
                await connection.DisposeAsync();
            }
        }
    }
}
