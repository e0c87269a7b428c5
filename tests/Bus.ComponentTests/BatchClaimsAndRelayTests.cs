using Bus.Contracts;
using Bus.Gateway.Jobs;
using Bus.Persistence.Submissions;
using Bus.Reconciler;
using Bus.Reconciler.Sweeps;
using Bus.ComponentTests.Support;
using MassTransit;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bus.ComponentTests;

/// <summary>
/// The job_requests side of submission on real PostgreSQL: the claims of a whole batch in one statement, the gateway's
/// marks of the sends the broker confirmed, and the outbox relay, which must resend what was never confirmed and leave
/// alone what waits in the scheduler's queue.
/// The bus is MassTransit's in-memory harness, which records what is sent.
/// </summary>
public sealed class BatchClaimsAndRelayTests : IAsyncLifetime
{
    TestDatabase _database = null!;
    RecordingBus _bus = null!;
    JobRequestClaims _claims = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.Create();
        _claims = new JobRequestClaims(_database.DataSource);
        _bus = await RecordingBus.Start();
    }

    public async Task DisposeAsync()
    {
        await _bus.DisposeAsync();
        await _database.DisposeAsync();
    }

    static ValidSubmission Submission(string requestId, string program = "/bin/true") =>
        SubmitJobValidator.Validate(new SubmitJobRequest(requestId, null, [program], null, null, null, null, null, null)).Submission!;

    [Fact]
    public async Task A_batch_claims_each_requestId_once_in_its_order_and_tells_a_changed_body_apart()
    {
        var now = DateTimeOffset.UtcNow;
        var first = await _claims.TakeMany("dev", [Submission("b"), Submission("a"), Submission("c")], now, CancellationToken.None);

        Assert.All(first, c => Assert.True(c.Created && c.SameBody));
        Assert.Equal(["b", "a", "c"], first.Select(c => c.Command.RequestId));
        Assert.Equal(first.Select(c => JobIds.ForRequest("dev", c.Command.RequestId)), first.Select(c => c.JobId));

        var retry = await _claims.TakeMany("dev", [Submission("c"), Submission("d"), Submission("a", "/bin/false")], now, CancellationToken.None);

        Assert.Equal([(false, true), (true, true), (false, false)], retry.Select(c => (c.Created, c.SameBody)));
        Assert.Equal(first[2].JobId, retry[0].JobId);
        Assert.Equal(["/bin/true"], retry[2].Command.Command); // the stored job, not the changed body
        // The single-submit claim sees the batch's rows as its own.
        Assert.False((await _claims.Take("dev", Submission("b"), now, CancellationToken.None)).Created);
    }

    [Fact]
    public async Task Overlapping_batches_claimed_at_once_in_opposite_orders_neither_deadlock_nor_make_a_job_twice()
    {
        var ids = Enumerable.Range(0, 200).Select(i => $"overlap-{i:D3}").ToArray();
        var forward = ids.Select(id => Submission(id)).ToList();
        var backward = ids.Reverse().Select(id => Submission(id)).ToList();

        var claims = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            Task.Run(() => _claims.TakeMany("dev", i % 2 == 0 ? forward : backward, DateTimeOffset.UtcNow, CancellationToken.None))));

        var byRequest = claims.SelectMany(c => c).GroupBy(c => c.Command.RequestId).ToList();
        Assert.Equal(200, byRequest.Count);
        Assert.All(byRequest, g => Assert.Single(g, c => c.Created));
        Assert.All(byRequest, g => Assert.Single(g.Select(c => c.JobId).Distinct()));
        Assert.Equal(200L, await Scalar("SELECT count(*) FROM job_requests WHERE request_id LIKE 'overlap-%'"));
    }

    [Fact]
    public async Task The_relay_resends_unconfirmed_requests_and_confirmed_ones_only_once_they_are_long_overdue()
    {
        var now = DateTimeOffset.UtcNow;
        await _claims.TakeMany("dev",
            [Submission("never-confirmed"), Submission("confirmed-recently"), Submission("confirmed-long-ago"), Submission("too-new")],
            now, CancellationToken.None);
        await _claims.MarkSent([("dev", "confirmed-recently"), ("dev", "confirmed-long-ago"), ("acme", "never-confirmed")], CancellationToken.None);
        await Execute("UPDATE job_requests SET created_at = now() - interval '30 minutes' WHERE request_id <> 'too-new'");
        await Execute("UPDATE job_requests SET sent_at = now() - interval '1 minute' WHERE request_id = 'confirmed-recently'");
        await Execute("UPDATE job_requests SET sent_at = now() - interval '11 minutes' WHERE request_id = 'confirmed-long-ago'");
        var relay = new OutboxRelay(_database.DataSource, _bus.Harness.Bus,
            Options.Create(new ReconcilerOptions { RelayAfter = TimeSpan.FromSeconds(5), RelayConfirmedAfter = TimeSpan.FromMinutes(10) }),
            NullLogger<OutboxRelay>.Instance);

        Assert.Equal(2, await relay.Run(CancellationToken.None));

        var sent = _bus.Harness.Sent.Select<SubmitJob>().Select(m => m.Context.Message.RequestId).ToHashSet();
        Assert.Equal(["confirmed-long-ago", "never-confirmed"], sent.Order());
    }

    [Fact]
    public async Task The_relay_reads_old_requests_once_each_in_batches_and_resends_every_one_without_a_saga_until_it_has_one()
    {
        // One statement: the seven share a creation time, as an array's jobs do. Then the last three a second apart.
        var claims = await _claims.TakeMany("dev", [.. Enumerable.Range(0, 7).Select(i => Submission($"old-{i}"))], DateTimeOffset.UtcNow, CancellationToken.None);
        await Execute("UPDATE job_requests SET created_at = now() - interval '30 minutes', sent_at = now() - interval '30 minutes'");
        await Execute("UPDATE job_requests SET created_at = created_at + substr(request_id, 5)::int * interval '1 second' WHERE substr(request_id, 5)::int >= 4");
        foreach (var claim in claims.Where(c => c.Command.RequestId is not ("old-1" or "old-5")))
            await InsertJob(claim.JobId);
        var relay = new OutboxRelay(_database.DataSource, _bus.Harness.Bus, Options.Create(new ReconcilerOptions { RelayScanBatch = 2 }),
            NullLogger<OutboxRelay>.Instance);

        // Two requests read a run: four runs read all seven, and each one without a saga is sent from the run that read it.
        var firstRuns = new List<string>();
        for (var run = 0; run < 4; run++)
            firstRuns.AddRange(await Resent(relay));
        Assert.Contains("old-1", firstRuns);
        Assert.Contains("old-5", firstRuns);
        Assert.All(firstRuns, r => Assert.Contains(r, (string[])["old-1", "old-5"]));
        // old-1 never got its saga, and old-5 behind it is found all the same; both are sent every run.
        Assert.Equal(["old-1", "old-5"], await Resent(relay));

        await InsertJob(claims[1].JobId);
        Assert.Equal(["old-5"], await Resent(relay));
        // Read once: a request read with its saga is not read again (here its saga row removed by hand).
        await Execute($"DELETE FROM jobs WHERE job_id = '{claims[2].JobId}'");
        Assert.Equal(["old-5"], await Resent(relay));
        await InsertJob(claims[5].JobId);
        Assert.Empty(await Resent(relay));
    }

    [Fact]
    public async Task While_the_relay_checks_as_many_as_its_waiting_limit_its_read_waits_where_it_stopped_and_skips_none()
    {
        var claims = await _claims.TakeMany("dev", [.. Enumerable.Range(0, 5).Select(i => Submission($"old-{i}"))], DateTimeOffset.UtcNow, CancellationToken.None);
        await Execute("UPDATE job_requests SET created_at = now() - interval '30 minutes' + substr(request_id, 5)::int * interval '1 second', sent_at = now() - interval '30 minutes'");
        var relay = new OutboxRelay(_database.DataSource, _bus.Harness.Bus,
            Options.Create(new ReconcilerOptions { RelayScanBatch = 5, RelayWaitingLimit = 2 }), NullLogger<OutboxRelay>.Instance);

        // Room for two: the first run reads two, and the next reads none while both still lack a saga.
        Assert.Equal(["old-0", "old-1"], await Resent(relay));
        Assert.Equal(["old-0", "old-1"], await Resent(relay));
        // The check that finds one taken up makes room for one more, read by the next run from where the read stopped.
        await InsertJob(claims[0].JobId);
        Assert.Equal(["old-1"], await Resent(relay));
        Assert.Equal(["old-1", "old-2"], await Resent(relay));
        await InsertJob(claims[1].JobId);
        await InsertJob(claims[2].JobId);
        Assert.Empty(await Resent(relay));
        Assert.Equal(["old-3", "old-4"], await Resent(relay));
    }

    async Task<string[]> Resent(OutboxRelay relay)
    {
        var before = _bus.Harness.Sent.Select<SubmitJob>().Count();
        await relay.Run(CancellationToken.None);
        return [.. _bus.Harness.Sent.Select<SubmitJob>().Skip(before).Select(m => m.Context.Message.RequestId).Order()];
    }

    async Task InsertJob(Guid jobId)
    {
        await using var insert = _database.DataSource.CreateCommand("""
            INSERT INTO jobs (job_id, current_state, version, tenant, request_id, service, command, cpus, memory_mb, gpus,
                              priority, timeout_seconds, max_attempts, attempt, submitted_at, updated_at)
            VALUES ($1, 'Completed', 1, 'dev', $1::text, 'shell', '{/bin/true}', 1, 0, 0, 0, 60, 3, 1, now(), now())
            """);
        insert.Parameters.AddWithValue(jobId);
        await insert.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Confirmed_sends_are_marked_in_the_background_per_tenant_and_a_clean_stop_marks_the_rest()
    {
        var now = DateTimeOffset.UtcNow;
        await _claims.TakeMany("dev", [Submission("first"), Submission("at-stop"), Submission("unconfirmed")], now, CancellationToken.None);
        await _claims.TakeMany("acme", [Submission("first"), Submission("unconfirmed")], now, CancellationToken.None);
        var marks = new SentSubmissions(_claims, TimeProvider.System, NullLogger<SentSubmissions>.Instance);
        await marks.StartAsync(CancellationToken.None);

        marks.Confirmed("dev", ["first"]);
        marks.Confirmed("acme", ["first"]);
        await Eventually.Get(() => Marked(), m => m.Count == 2, TimeSpan.FromSeconds(10), "the first two marks");
        marks.Confirmed("dev", ["at-stop"]);
        await marks.StopAsync(CancellationToken.None);

        Assert.Equal(["acme/first", "dev/at-stop", "dev/first"], await Marked());
    }

    async Task<List<string>> Marked()
    {
        await using var command = _database.DataSource.CreateCommand(
            "SELECT tenant || '/' || request_id FROM job_requests WHERE sent_at IS NOT NULL ORDER BY 1");
        var marked = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            marked.Add(reader.GetString(0));
        return marked;
    }


    async Task<object?> Scalar(string sql)
    {
        await using var command = _database.DataSource.CreateCommand(sql);
        return await command.ExecuteScalarAsync();
    }

    async Task Execute(string sql)
    {
        await using var command = _database.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
