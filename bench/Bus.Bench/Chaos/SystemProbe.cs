using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Bus.Contracts;
using Bus.Persistence.Jobs;
using Npgsql;

namespace Bus.Bench.Chaos;

/// <summary>
/// What the suite reads from the system: readiness, workers, job states, allocation rows and error queues. Each read may
/// meet the very server a round stopped, so the callers retry or skip; nothing here waits on its own.
/// </summary>
public sealed class SystemProbe(HttpClient api, NpgsqlDataSource database) : IDisposable
{
    readonly HttpClient _management = BenchEnvironment.RabbitManagement();

    public async Task<bool> Ready()
    {
        try
        {
            using var response = await api.GetAsync("/health/ready");
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>Live workers and their cpus, as the API lists them.</summary>
    public async Task<IReadOnlyDictionary<string, int>> WorkerCpus()
    {
        var workers = await api.GetFromJsonAsync<JsonArray>("/api/v1/workers");
        return workers!.ToDictionary(w => (string)w!["workerId"]!, w => (int)w!["capacity"]!["cpus"]!);
    }

    /// <summary>Every worker that ever registered and its cpus, from PostgreSQL (a worker down for a while still counts).</summary>
    public async Task<IReadOnlyDictionary<string, int>> RegisteredCpus()
    {
        await using var command = database.CreateCommand("SELECT worker_id, cpus FROM workers");
        var workers = new Dictionary<string, int>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            workers[reader.GetString(0)] = reader.GetInt32(1);
        return workers;
    }

    /// <summary>Each job's state and, once terminal, when it finished.</summary>
    public async Task<IReadOnlyDictionary<Guid, (string State, DateTimeOffset? Finished)>> Jobs(IReadOnlyCollection<Guid> ids)
    {
        var jobs = await new JobQueries(database).Progress(ids.ToArray());
        return jobs.ToDictionary(j => j.JobId, j => (j.State, j.FinishedAt));
    }

    public static bool IsTerminal(string state) => JobStates.IsFinal(state);

    /// <summary>Every allocation row, live or archived, that held cpus at some time between the two instants.</summary>
    public async Task<IReadOnlyList<AllocationSpan>> Allocations(DateTimeOffset from, DateTimeOffset to)
    {
        const string columns = "worker_id, cpus, allocated_at, CASE WHEN released THEN coalesce(released_at, allocated_at) END";
        const string window = "allocated_at <= $2 AND (NOT released OR released_at >= $1)";
        await using var command = database.CreateCommand(
            $"SELECT {columns} FROM resource_allocations WHERE {window} UNION ALL SELECT {columns} FROM resource_allocations_history WHERE {window}");
        command.Parameters.AddWithValue(from);
        command.Parameters.AddWithValue(to);
        var rows = new List<AllocationSpan>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add(new AllocationSpan(reader.GetString(0), reader.GetInt32(1), reader.GetFieldValue<DateTimeOffset>(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3)));
        return rows;
    }

    /// <summary>
    /// Messages waiting in the virtual host's <c>_error</c> queues, or null when the broker does not answer or lists a
    /// queue without its count (a quorum queue whose node has just restarted, while it recovers).
    /// </summary>
    public async Task<int?> ErrorQueueMessages()
    {
        try
        {
            var vhost = Uri.EscapeDataString(Environment.GetEnvironmentVariable("RabbitMq__VirtualHost") ?? "bus");
            var queues = await _management.GetFromJsonAsync<JsonArray>($"/api/queues/{vhost}?columns=name,messages");
            var errors = queues!.Where(q => ((string)q!["name"]!).EndsWith("_error")).ToList();
            return errors.All(q => q!["messages"] is not null) ? errors.Sum(q => (int)q!["messages"]!) : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    public void Dispose() => _management.Dispose();
}
