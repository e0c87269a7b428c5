using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using StackExchange.Redis;

namespace Bus.Bench.EndToEnd;

/// <summary>
/// What one job costs the machine, from counters read before and after the measured run: each process's CPU time,
/// RabbitMQ's messages published and delivered (its management API), PostgreSQL's transactions, rows and statements
/// (<c>pg_stat_database</c> and <c>pg_stat_statements</c>, which infra/up.sh loads), and Redis's commands
/// (<c>INFO commandstats</c>). Divided by the jobs the run finished, so a change that saves a round trip shows here
/// before it shows in the throughput.
/// </summary>
/// <remarks>
/// RabbitMQ's management counters are sampled every 5 s and PostgreSQL's backends report their statistics at most every
/// second (an idle one after up to 10 s), so each snapshot waits until the counters settle, at least 11 s after the
/// last job, before it reads.
/// </remarks>
public sealed class CostLedger(NpgsqlDataSource database) : IDisposable
{
    static readonly TimeSpan Settle = TimeSpan.FromSeconds(11);
    readonly HttpClient _rabbit = BenchEnvironment.RabbitManagement();

    /// <summary>Counters at one moment; <see cref="Statements"/> and <see cref="RedisCommands"/> by statement and command.</summary>
    public sealed record Snapshot(
        IReadOnlyList<ServiceUsage> Processes,
        long Published,
        long Delivered,
        long Transactions,
        long RowsInserted,
        long RowsUpdated,
        long RowsDeleted,
        IReadOnlyDictionary<string, (long Calls, double TotalMs)>? Statements,
        IReadOnlyDictionary<string, long> RedisCommands);

    /// <summary>Waits until the counters settle, then reads them all.</summary>
    public async Task<Snapshot> Take(string stateFolder)
    {
        await Task.Delay(Settle); // not a test: the counters below are published late by design (see remarks)
        var (published, delivered) = await RabbitCounters();
        var settled = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < settled)
        {
            await Task.Delay(TimeSpan.FromSeconds(5.5)); // one management sampling interval
            var again = await RabbitCounters();
            if (again == (published, delivered))
                break;
            (published, delivered) = again;
        }
        var (transactions, inserted, updated, deleted) = await DatabaseCounters();
        return new Snapshot(ServiceUsage.Read(stateFolder), published, delivered, transactions, inserted, updated, deleted,
            await StatementCounters(), await RedisCommandCounters());
    }

    /// <summary>Prints the cost per finished job between two snapshots.</summary>
    public static void Report(Snapshot before, Snapshot after, int jobs)
    {
        double PerJob(double value) => value / jobs;
        Console.WriteLine($"Cost per job ({jobs:N0} jobs of the measured run):");
        Console.WriteLine($"{"  cpu ms per job",-34}{"",10}");
        var total = 0.0;
        foreach (var process in after.Processes)
        {
            var start = before.Processes.FirstOrDefault(b => b.Name == process.Name)?.CpuSeconds ?? 0;
            var ms = PerJob((process.CpuSeconds - start) * 1000);
            total += ms;
            Console.WriteLine($"{"    " + process.Name,-34}{ms,10:F2}");
        }
        Console.WriteLine($"{"    all processes",-34}{total,10:F2}");
        Console.WriteLine($"{"  rabbitmq messages published",-34}{PerJob(after.Published - before.Published),10:F2}");
        Console.WriteLine($"{"  rabbitmq messages delivered",-34}{PerJob(after.Delivered - before.Delivered),10:F2}");
        Console.WriteLine($"{"  postgresql transactions",-34}{PerJob(after.Transactions - before.Transactions),10:F2}");
        Console.WriteLine($"{"  postgresql rows inserted",-34}{PerJob(after.RowsInserted - before.RowsInserted),10:F2}");
        Console.WriteLine($"{"  postgresql rows updated",-34}{PerJob(after.RowsUpdated - before.RowsUpdated),10:F2}");
        Console.WriteLine($"{"  postgresql rows deleted",-34}{PerJob(after.RowsDeleted - before.RowsDeleted),10:F2}");
        if (before.Statements is { } first && after.Statements is { } last)
        {
            var statements = last.Select(s => (Query: s.Key,
                    Calls: s.Value.Calls - (first.TryGetValue(s.Key, out var b) ? b.Calls : 0),
                    Ms: s.Value.TotalMs - (first.TryGetValue(s.Key, out var c) ? c.TotalMs : 0)))
                .Where(s => s.Calls > 0).OrderByDescending(s => s.Calls).ToList();
            Console.WriteLine($"{"  postgresql statements",-34}{PerJob(statements.Sum(s => s.Calls)),10:F2}");
            foreach (var (query, calls, ms) in statements.Take(12))
                Console.WriteLine($"{"",4}{PerJob(calls),6:F2} x {ms / calls,6:F3} ms  {Shorten(query)}");
            // A rare statement can cost more than the frequent ones: the biggest by time, whatever their count.
            Console.WriteLine($"{"  postgresql ms per job, costliest",-34}{PerJob(statements.Sum(s => s.Ms)),10:F2}");
            foreach (var (query, calls, ms) in statements.OrderByDescending(s => s.Ms).Take(5))
                Console.WriteLine($"{"",4}{PerJob(ms),6:F3} ms = {PerJob(calls),6:F2} x {ms / calls,7:F3} ms  {Shorten(query)}");
        }
        else
        {
            Console.WriteLine("  postgresql statements: pg_stat_statements is not loaded (restart PostgreSQL: ./bus down && ./bus up)");
        }
        var commands = after.RedisCommands
            .Select(c => (Command: c.Key, Calls: c.Value - before.RedisCommands.GetValueOrDefault(c.Key)))
            .Where(c => c.Calls > 0 && c.Command != "info").OrderByDescending(c => c.Calls).ToList();
        Console.WriteLine($"{"  redis commands",-34}{PerJob(commands.Sum(c => c.Calls)),10:F2}   " +
                          string.Join(", ", commands.Take(6).Select(c => $"{c.Command} {PerJob(c.Calls):F2}")));
    }

    static string Shorten(string query)
    {
        var flat = string.Join(' ', query.Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
        return flat.Length <= 100 ? flat : flat[..97] + "...";
    }

    async Task<(long Published, long Delivered)> RabbitCounters()
    {
        var vhost = await _rabbit.GetFromJsonAsync<JsonObject>($"/api/vhosts/{Uri.EscapeDataString(BenchEnvironment.RabbitVirtualHost)}");
        var stats = vhost?["message_stats"];
        return ((long?)stats?["publish"] ?? 0, (long?)stats?["deliver_get"] ?? 0);
    }

    async Task<(long, long, long, long)> DatabaseCounters()
    {
        await using var command = database.CreateCommand("""
            SELECT xact_commit + xact_rollback, tup_inserted, tup_updated, tup_deleted
            FROM pg_stat_database WHERE datname = current_database()
            """);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    /// <summary>Calls and time of every statement run in this database, or null when pg_stat_statements is not loaded.</summary>
    async Task<IReadOnlyDictionary<string, (long, double)>?> StatementCounters()
    {
        try
        {
            await using var command = database.CreateCommand("""
                SELECT query, sum(calls)::bigint, sum(total_exec_time)
                FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                GROUP BY query
                """);
            await using var reader = await command.ExecuteReaderAsync();
            var statements = new Dictionary<string, (long, double)>();
            while (await reader.ReadAsync())
                statements[reader.GetString(0)] = (reader.GetInt64(1), reader.GetDouble(2));
            return statements;
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.ObjectNotInPrerequisiteState)
        {
            return null; // the extension is not created, or its library is not preloaded
        }
    }

    static async Task<IReadOnlyDictionary<string, long>> RedisCommandCounters()
    {
        // INFO is an admin command to StackExchange.Redis.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(BenchEnvironment.Redis + ",allowAdmin=true");
        var counters = new Dictionary<string, long>();
        foreach (var group in await redis.GetServers()[0].InfoAsync("commandstats"))
            foreach (var (key, value) in group)
                // cmdstat_evalsha: calls=123,usec=456,...
                if (key.StartsWith("cmdstat_", StringComparison.Ordinal) &&
                    value.Split(',').FirstOrDefault(p => p.StartsWith("calls=", StringComparison.Ordinal)) is { } calls)
                    counters[key["cmdstat_".Length..]] = long.Parse(calls["calls=".Length..], CultureInfo.InvariantCulture);
        return counters;
    }

    public void Dispose() => _rabbit.Dispose();
}
