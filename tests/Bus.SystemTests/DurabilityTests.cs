using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Bus.Capacity.Ledger;
using Bus.Capacity.Redis;
using Bus.Contracts;
using Bus.SystemTests.Support;
using StackExchange.Redis;

namespace Bus.SystemTests;

/// <summary>
/// Exactly-once effects per attempt, and an owner for every state a job can stop in, with real processes. Each test
/// brings its own workers, advertising a language no other worker has, so its jobs run only there. Each race is set
/// up in the state it leaves behind (a row the database still calls unreleased, a reservation nobody recorded), so a
/// test fails without its fix rather than only when the timing is unlucky.
/// </summary>
public sealed class DurabilityTests(RunningSystem system) : IClassFixture<RunningSystem>
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task A_job_whose_start_is_reported_only_after_the_start_lease_runs_once_as_the_same_attempt()
    {
        // The worker reports Started after 30 s, long past the 5 s start lease: only its heartbeat shows it runs the job.
        await StartWorker("late-starter", "late-start", ("Worker__StartedReportDelay", "00:00:30"));
        var ledger = Ledger();
        var jobId = await Submit("late-start", ["/bin/sh", "-c", $"echo ran >> {ledger}; sleep 12; echo done"]);

        var job = await system.WaitForJob(jobId, "Completed", "Failed", "Cancelled");
        Assert.Equal(("Completed", 1, "late-starter"), ((string?)job["state"], (int?)job["attempt"], (string?)job["workerId"]));
        Assert.Equal(["ran"], File.ReadAllLines(ledger));
    }

    [Fact]
    public async Task A_RunJob_delivered_again_for_an_attempt_that_already_ended_is_not_run_again_even_after_the_worker_restarts()
    {
        var worker = await StartWorker("once", "once");
        var ledger = Ledger();
        string[] command = ["/bin/sh", "-c", $"echo ran >> {ledger}"];
        var jobId = await Submit("once", command);
        await system.WaitForJob(jobId, "Completed");

        // As if the scheduler had not yet recorded the end (PostgreSQL away): the attempt still holds its allocation.
        await Execute("UPDATE resource_allocations SET released = false, released_at = NULL WHERE job_id = $1", Guid.Parse(jobId));
        worker.KillHard();
        // Its old registration still lists it, so wait for the new process's own, which follows its recovery.
        var restarted = system.StartWorkerProcess("once", ("Worker__Cpus", "2"), ("Worker__Languages__0", "once"));
        await Eventually.Get(() => Task.FromResult(restarted.Output), o => o.Contains("Worker once registered"), TimeSpan.FromSeconds(90),
            "the restarted worker registered");

        await SendToQueue("worker-once", "RunJob", new RunJob(Guid.Parse(jobId), 1, "once", "shell", command, null, new ResourceVector(1, 0, 0), 60));

        // Either the worker recognises the attempt, or it runs it a second time; only the first may happen.
        await Eventually.Get(() => Task.FromResult(restarted.Output.Contains("already ended here") || File.ReadAllLines(ledger).Length > 1),
            settled => settled, TimeSpan.FromSeconds(90), "the restarted worker handling the RunJob");
        Assert.Equal(["ran"], File.ReadAllLines(ledger));
    }

    [Fact]
    public async Task A_placement_that_lands_after_its_job_was_cancelled_leaves_no_allocation_behind()
    {
        // No worker offers this language, so the job waits and is cancelled while Pending.
        var jobId = Guid.Parse(await Submit("nobody-speaks-this", ["/bin/true"]));
        await system.Api.PostAsync($"/api/v1/jobs/{jobId}/cancel", null);
        await system.WaitForJob(jobId.ToString(), "Cancelled");

        // What a Place racing the cancel leaves: its attempt reserved and recorded before its saga write lost the race;
        // its retry then finds the job Cancelled.
        await Execute("""
            INSERT INTO resource_allocations (job_id, attempt, worker_id, cpus, memory_mb, gpus, allocated_at)
            VALUES ($1, 1, 'worker-a', 1, 0, 0, now())
            """, jobId);
        await SendToQueue("job-state", "PlaceJob", new PlaceJob(jobId));

        await Eventually.Get(() => Scalar<long>("SELECT count(*) FROM resource_allocations WHERE job_id = $1 AND NOT released", jobId),
            unreleased => unreleased == 0, TimeSpan.FromSeconds(30), "the leftover allocation released");
    }

    [Fact]
    public async Task An_accepted_request_whose_SubmitJob_was_never_sent_is_relayed_and_runs()
    {
        await StartWorker("relayed", "relay");
        // As if the gateway crashed between its insert and its send: the request row alone.
        var submission = new SubmitJob(Guid.CreateVersion7(), "dev", $"relay-{Guid.NewGuid():N}", "shell", ["/bin/echo", "relayed"], null,
            new ResourceVector(1, 0, 0), new PlacementConstraints("relay", null, null, null), 50, 60, 3, DateTimeOffset.UtcNow);
        await Execute("""
            INSERT INTO job_requests (tenant, request_id, job_id, request_hash, submit_command) VALUES ($1, $2, $3, 'x', $4::jsonb)
            """, submission.Tenant, submission.RequestId, submission.JobId, JsonSerializer.Serialize(submission, Json));

        var job = await system.WaitForJob(submission.JobId.ToString(), "Completed", "Failed");
        Assert.Equal(("Completed", "relayed\n"), ((string?)job["state"], (string?)job["output"]));
    }

    [Fact]
    public async Task A_draining_worker_with_a_job_still_running_heartbeats_at_its_normal_interval()
    {
        await Execute("""
            CREATE TABLE IF NOT EXISTS heartbeats_seen (worker_id text, at timestamptz DEFAULT clock_timestamp());
            CREATE OR REPLACE FUNCTION note_heartbeat() RETURNS trigger AS $$
              BEGIN INSERT INTO heartbeats_seen (worker_id) VALUES (NEW.worker_id); RETURN NEW; END $$ LANGUAGE plpgsql;
            DROP TRIGGER IF EXISTS note_heartbeat ON workers;
            CREATE TRIGGER note_heartbeat AFTER UPDATE ON workers FOR EACH ROW EXECUTE FUNCTION note_heartbeat();
            """);
        await StartWorker("drain-beat", "drain-beat");
        var jobId = await Submit("drain-beat", ["/bin/sh", "-c", "sleep 6; echo done"]);
        await system.WaitForJob(jobId, "Running");

        var drainedAt = await Scalar<DateTime>("SELECT clock_timestamp()::timestamp");
        await system.Api.PostAsync("/api/v1/workers/drain-beat/drain", null);
        await system.WaitForJob(jobId, "Completed");

        // The test workers beat every 2 s: a few beats in the job's last seconds, not thousands.
        var beats = await Scalar<long>("SELECT count(*) FROM heartbeats_seen WHERE worker_id = 'drain-beat' AND at > $1", drainedAt);
        Assert.InRange(beats, 1, 10);
    }

    [Fact]
    public async Task Startup_recovery_never_releases_a_reservation_placed_after_it_read_the_worker_state()
    {
        var first = await StartWorker("fenced", "fenced");
        first.KillHard(); // its registration lives on in Redis for a few seconds, so it can still be placed on
        using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        var ledger = new RedisCounters(redis, new RedisKeys(system.KeyPrefix));
        var jobId = Guid.NewGuid();
        var reserved = await ledger.ReserveWithEpoch("fenced", jobId, 1, new ResourceVector(1, 0, 0));
        Assert.True(reserved.Holds);

        // The worker restarts while that placement is between its Redis reservation and its allocation row. Its old
        // registration still lists it, so wait for the new process's own registration, which follows its recovery.
        var second = system.StartWorkerProcess("fenced", ("Worker__Cpus", "2"), ("Worker__Languages__0", "fenced"));
        await Eventually.Get(() => Task.FromResult(second.Output), o => o.Contains("Worker fenced registered"), TimeSpan.FromSeconds(60),
            "the restarted worker registered");
        var recorded = await new DatabaseLedger(system.Database.DataSource)
            .Record(jobId, 1, "fenced", new ResourceVector(1, 0, 0), DateTimeOffset.UtcNow, reserved.Epoch);

        // Recovery dropped the reservation, so the row that would have claimed it is refused (and placement retries),
        // instead of an allocation Redis no longer counts.
        Assert.Null(recorded);
        Assert.DoesNotContain(await ledger.Reservations("fenced"), r => r.JobId == jobId);
    }

    Task<ServiceProcess> StartWorker(string workerId, string language, params (string Key, string Value)[] settings) =>
        system.StartWorker(workerId, cpus: 2, [("Worker__Languages__0", language), .. settings]);

    async Task<string> Submit(string language, string[] command)
    {
        var (_, accepted) = await system.Submit(new { requestId = $"{language}-{Guid.NewGuid():N}", command, constraints = new { language } });
        return (string)accepted["jobId"]!;
    }

    static string Ledger() => Path.Combine(Path.GetTempPath(), $"bus-runs-{Guid.NewGuid():N}");

    async Task Execute(string sql, params object[] parameters)
    {
        await using var command = system.Database.DataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
            command.Parameters.AddWithValue(parameter);
        await command.ExecuteNonQueryAsync();
    }

    async Task<T> Scalar<T>(string sql, params object[] parameters)
    {
        await using var command = system.Database.DataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
            command.Parameters.AddWithValue(parameter);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Puts a message on a queue as MassTransit would send it, through the management API.</summary>
    async Task SendToQueue<T>(string queue, string type, T message)
    {
        using var management = TestEnvironment.RabbitManagement();
        var envelope = new JsonObject
        {
            ["messageId"] = Guid.NewGuid().ToString(),
            ["messageType"] = new JsonArray($"urn:message:Bus.Contracts:{type}"),
            ["destinationAddress"] = $"rabbitmq://localhost/{system.VirtualHost}/{queue}",
            ["message"] = JsonSerializer.SerializeToNode(message, Json),
        };
        var response = await management.PostAsJsonAsync($"exchanges/{system.VirtualHost}/amq.default/publish", new
        {
            properties = new { content_type = "application/vnd.masstransit+json", delivery_mode = 2 },
            routing_key = queue,
            payload = envelope.ToJsonString(),
            payload_encoding = "string",
        });
        response.EnsureSuccessStatusCode();
        Assert.True((bool)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["routed"]!, $"nothing routed to {queue}");
    }
}
