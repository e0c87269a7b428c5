using System.Net;
using System.Text.Json.Nodes;
using Bus.SystemTests.Support;

namespace Bus.SystemTests;

/// <summary>
/// Array submissions through the whole system: every element its own job and saga, run to the end; a batch posted
/// again makes no new job; a retry that mixes old and new requestIds makes only the new ones.
/// </summary>
public sealed class BatchSubmitTests(RunningSystem system) : IClassFixture<RunningSystem>
{
    static string Run() => $"batch-{Guid.NewGuid():N}";

    static object[] NoopJobs(string run, int from, int count) =>
        Enumerable.Range(from, count).Select(i => (object)new { requestId = $"{run}-{i}", service = "noop" }).ToArray();

    [Fact]
    public async Task A_batch_of_50_all_complete_and_posting_it_again_makes_no_new_job()
    {
        var run = Run();
        var jobs = NoopJobs(run, 0, 50);

        var (status, batch) = await system.SubmitBatch(jobs);

        Assert.Equal(HttpStatusCode.Accepted, status);
        var answers = Answers(batch);
        Assert.Equal(Enumerable.Range(0, 50), answers.Select(a => (int)a["index"]!));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"{run}-{i}"), answers.Select(a => (string)a["requestId"]!));
        Assert.All(answers, a => Assert.Equal(("accepted", "Pending"), ((string?)a["status"], (string?)a["state"])));
        Assert.All(answers, a => Assert.Null(a["problem"]));
        Assert.Equal((50, 0, 0), ((int)batch["accepted"]!, (int)batch["alreadyAccepted"]!, (int)batch["refused"]!));
        var jobIds = answers.Select(a => (Guid)a["jobId"]!).ToArray();
        Assert.Equal(50, jobIds.Distinct().Count());
        await Eventually.Get(() => Count("current_state = 'Completed'", jobIds), n => n == 50, TimeSpan.FromSeconds(90), "all 50 jobs Completed");

        var (again, repeated) = await system.SubmitBatch(jobs);

        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal((0, 50, 0), ((int)repeated["accepted"]!, (int)repeated["alreadyAccepted"]!, (int)repeated["refused"]!));
        Assert.Equal(jobIds, Answers(repeated).Select(a => (Guid)a["jobId"]!));
        Assert.All(Answers(repeated), a => Assert.Equal(("alreadyAccepted", "Completed"), ((string?)a["status"], (string?)a["state"])));
        Assert.Equal(50, await JobRows(run));
        Assert.Equal(50, await Count("attempt = 1", jobIds)); // and each ran once
    }

    [Fact]
    public async Task A_retry_mixing_old_and_new_requestIds_makes_only_the_new_jobs_and_refuses_a_changed_element_alone()
    {
        var run = Run();
        var (_, first) = await system.SubmitBatch(NoopJobs(run, 0, 20));
        var old = Answers(first).Select(a => (Guid)a["jobId"]!).ToArray();
        // Elements 0-9 as before, 10 with another body than before, 11-19 left out, 20-29 new.
        var mixed = NoopJobs(run, 0, 10)
            .Append(new { requestId = $"{run}-10", command = new[] { "/bin/echo", "changed" } })
            .Concat(NoopJobs(run, 20, 10))
            .ToArray();

        var (status, retry) = await system.SubmitBatch(mixed);

        Assert.Equal(HttpStatusCode.Accepted, status);
        var answers = Answers(retry);
        Assert.Equal((10, 10, 1), ((int)retry["accepted"]!, (int)retry["alreadyAccepted"]!, (int)retry["refused"]!));
        Assert.Equal(old.Take(10), answers.Take(10).Select(a => (Guid)a["jobId"]!));
        Assert.All(answers.Take(10), a => Assert.Equal("alreadyAccepted", (string?)a["status"]));
        var changed = answers[10];
        Assert.Equal(("refused", null), ((string?)changed["status"], (string?)changed["jobId"]));
        Assert.Equal((409, "requestId already used"), ((int)changed["problem"]!["status"]!, (string?)changed["problem"]!["title"]));
        Assert.Contains($"as job {old[10]}", (string?)changed["problem"]!["detail"]);
        Assert.All(answers.Skip(11), a => Assert.Equal("accepted", (string?)a["status"]));
        var added = answers.Skip(11).Select(a => (Guid)a["jobId"]!).ToArray();
        Assert.Empty(added.Intersect(old));

        await Eventually.Get(() => Count("current_state = 'Completed'", [.. old, .. added]), n => n == 30, TimeSpan.FromSeconds(90),
            "the 20 first and the 10 new jobs Completed");
        Assert.Equal(30, await JobRows(run));
        // The changed element did not change its job: still the noop it was.
        Assert.Equal(1, await Count("service = 'noop'", [old[10]]));
    }

    [Fact]
    public async Task The_same_batch_posted_concurrently_makes_each_job_once()
    {
        var run = Run();
        var jobs = NoopJobs(run, 0, 50);

        var posts = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => system.SubmitBatch(jobs)));

        Assert.All(posts, p => Assert.True(p.Status is HttpStatusCode.Accepted or HttpStatusCode.OK, p.Status.ToString()));
        var byElement = posts.SelectMany(p => Answers(p.Body)).GroupBy(a => (int)a["index"]!).ToList();
        Assert.Equal(50, byElement.Count);
        Assert.All(byElement, answers =>
        {
            Assert.Single(answers.Select(a => (string?)a["jobId"]).Distinct());
            Assert.Single(answers, a => (string?)a["status"] == "accepted");
            Assert.Equal(3, answers.Count(a => (string?)a["status"] == "alreadyAccepted"));
        });
        var jobIds = byElement.Select(g => (Guid)g.First()["jobId"]!).ToArray();
        await Eventually.Get(() => Count("current_state = 'Completed'", jobIds), n => n == 50, TimeSpan.FromSeconds(90), "all 50 jobs Completed");
        Assert.Equal(50, await JobRows(run));
    }

    static List<JsonObject> Answers(JsonObject batch) => batch["jobs"]!.AsArray().Select(a => a!.AsObject()).ToList();

    async Task<long> Count(string condition, Guid[] jobIds)
    {
        await using var command = system.Database.DataSource.CreateCommand($"SELECT count(*) FROM jobs WHERE job_id = ANY($1) AND {condition}");
        command.Parameters.AddWithValue(jobIds);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The run's rows in both tables: each requestId must name one request and one job.</summary>
    async Task<long> JobRows(string run)
    {
        await using var command = system.Database.DataSource.CreateCommand("""
            SELECT CASE WHEN (SELECT count(*) FROM job_requests WHERE request_id LIKE $1) = (SELECT count(*) FROM jobs WHERE request_id LIKE $1)
                        THEN (SELECT count(*) FROM jobs WHERE request_id LIKE $1) ELSE -1 END
            """);
        command.Parameters.AddWithValue($"{run}-%");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
