using System.Net;
using System.Text;
using System.Text.Json;
using static Bus.Gateway.Tests.Problems;

namespace Bus.Gateway.Tests;

/// <summary>
/// <c>POST /api/v1/jobs:batch</c> before its first query: the route, the all-or-nothing validation with each error
/// named by its element's index, the element count and the batch's own body limit. The database is unreachable here
/// (<see cref="GatewayFactory"/>), so a batch that passes every check answers 503: nothing refused here got that far.
/// </summary>
public sealed class BatchSubmitTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    const string Batch = "/api/v1/jobs:batch";
    readonly HttpClient _api = gateway.Client(GatewayFactory.AdminKey);

    static string Jobs(params object?[] jobs) => JsonSerializer.Serialize(new { jobs });

    static object Valid(int i) => new { requestId = $"batch-{i}", command = new[] { "/bin/true" } };

    [Fact]
    public async Task The_literal_jobs_batch_segment_is_its_own_route_and_needs_a_key()
    {
        var anonymous = gateway.Client(null);

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync(Batch, Json(Jobs(Valid(0))))).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await _api.GetAsync(Batch)).StatusCode);
        // Not taken for the single submit: its answer names the batch's own field.
        var (status, problem, _) = await Post(_api, Batch, Json("""{"jobs":[]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(["jobs"], FieldErrors(problem).Keys);
    }

    [Theory]
    [InlineData("""{"jobs":[]}""", "jobs must hold 1 to 1,000 submissions; this batch holds 0.")]
    [InlineData("""{"jobs":null}""", "jobs must hold 1 to 1,000 submissions.")]
    [InlineData("""{}""", "jobs must hold 1 to 1,000 submissions.")]
    public async Task A_batch_without_jobs_answers_400(string body, string message)
    {
        var (status, problem, _) = await Post(_api, Batch, Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(message, FieldErrors(problem)["jobs"]);
    }

    [Fact]
    public async Task More_than_1000_jobs_answer_400_and_1000_pass_the_count()
    {
        var (tooMany, problem, _) = await Post(_api, Batch, Json(Jobs(Enumerable.Range(0, 1001).Select(Valid).ToArray())));
        var (exactly, _, _) = await Post(_api, Batch, Json(Jobs(Enumerable.Range(0, 1000).Select(Valid).ToArray())));

        Assert.Equal(HttpStatusCode.BadRequest, tooMany);
        Assert.Equal("jobs must hold 1 to 1,000 submissions; this batch holds 1,001.", FieldErrors(problem)["jobs"]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, exactly);
    }

    [Fact]
    public async Task One_invalid_element_refuses_the_whole_batch_with_every_error_named_by_its_index()
    {
        var body = Jobs(
            Valid(0),
            new { requestId = "batch-1" },
            Valid(2),
            new { requestId = "batch-3", command = new[] { "/bin/true" }, resources = new { cpus = 0 }, priority = 101 },
            null);

        var (status, problem, _) = await Post(_api, Batch, Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var errors = FieldErrors(problem);
        Assert.Equal(["jobs[1].command", "jobs[3].priority", "jobs[3].resources.cpus", "jobs[4]"], errors.Keys.Order());
        // The same messages as a single submission's.
        Assert.StartsWith("command is required for the shell service", errors["jobs[1].command"]);
        Assert.Equal("resources.cpus must be between 1 and 4096.", errors["jobs[3].resources.cpus"]);
    }

    [Fact]
    public async Task A_requestId_given_twice_in_one_batch_is_an_error_of_the_later_element()
    {
        var (status, problem, _) = await Post(_api, Batch, Json(Jobs(Valid(0), Valid(1), Valid(0))));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var (field, message) = Assert.Single(FieldErrors(problem));
        Assert.Equal("jobs[2].requestId", field);
        Assert.Equal("requestId 'batch-0' is also the requestId of jobs[0]; each element needs its own.", message);
    }

    [Fact]
    public async Task An_element_read_strictly_as_a_single_body_is_named_with_its_index()
    {
        var (unknown, unknownProblem, _) = await Post(_api, Batch,
            Json("""{"jobs":[{"requestId":"a","command":["/bin/true"]},{"requestId":"b","command":["/bin/true"],"resources":{"cores":4}}]}"""));
        var (mistyped, mistypedProblem, _) = await Post(_api, Batch, Json("""{"jobs":[{"requestId":"a","priority":"50"}]}"""));
        var (notAnArray, notAnArrayProblem, _) = await Post(_api, Batch, Json("""{"jobs":{"requestId":"a"}}"""));

        Assert.Equal(HttpStatusCode.BadRequest, unknown);
        Assert.Contains(FieldErrors(unknownProblem).Keys, k => k == "jobs[1].resources.cores");
        Assert.Equal(HttpStatusCode.BadRequest, mistyped);
        Assert.Contains(FieldErrors(mistypedProblem).Keys, k => k == "jobs[0].priority");
        Assert.Equal(HttpStatusCode.BadRequest, notAnArray);
        Assert.Contains(FieldErrors(notAnArrayProblem).Keys, k => k == "jobs");
    }

    [Fact]
    public async Task A_batch_has_its_own_body_limit_and_the_single_submits_does_not_apply_to_it()
    {
        await using var limited = GatewayFactory.In("Development", new Dictionary<string, string?>
        {
            ["Limits:MaxRequestBodyBytes"] = "1024",
            ["Limits:MaxBatchRequestBodyBytes"] = "4096",
        });
        var api = limited.Client(GatewayFactory.AdminKey);
        var withinBatchLimit = Jobs(Enumerable.Range(0, 30).Select(Valid).ToArray());
        var overBatchLimit = Jobs(Enumerable.Range(0, 100).Select(Valid).ToArray());
        Assert.InRange(Encoding.UTF8.GetByteCount(withinBatchLimit), 1025, 4096);

        var (single, _, _) = await Post(api, "/api/v1/jobs", Json(withinBatchLimit));
        var (within, _, _) = await Post(api, Batch, Json(withinBatchLimit));
        var (over, overProblem, _) = await Post(api, Batch, Json(overBatchLimit));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, single);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, within); // read, validated, and on to the (unreachable) database
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, over);
        Assert.Equal(413, (int?)overProblem["status"]);
    }

    [Fact]
    public async Task A_valid_batch_while_the_database_is_unreachable_answers_503_with_retry_after()
    {
        var (status, problem, response) = await Post(_api, Batch, Json(Jobs(Valid(0), Valid(1))));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("database", (string?)problem["detail"]);
        Assert.Equal("5", response.Headers.GetValues("Retry-After").Single());
    }
}
