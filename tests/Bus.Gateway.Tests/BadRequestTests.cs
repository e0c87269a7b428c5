using System.Net;
using System.Text;
using static Bus.Gateway.Tests.Problems;

namespace Bus.Gateway.Tests;

/// <summary>Every malformed request answers a 4xx problem+json, with the field that was wrong, never a 500.</summary>
public sealed class BadRequestTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    const string Jobs = "/api/v1/jobs";
    readonly HttpClient _api = gateway.Client(GatewayFactory.AdminKey);

    [Theory]
    [InlineData("{", "body")]
    [InlineData("[]", "body")]
    [InlineData("not json at all", "body")]
    [InlineData("""{"requestId":"a","command":["/bin/true"],"resources":{"cpus":"two"}}""", "resources.cpus")]
    [InlineData("""{"requestId":"a","command":"/bin/true"}""", "command")]
    [InlineData("""{"requestId":"a","command":["/bin/true"],"priority":50.5}""", "priority")]
    [InlineData("""{"requestId":"a","command":["/bin/true"],"timeoutSeconds":99999999999}""", "timeoutSeconds")]
    [InlineData("""{"requestId":"a","command":["/bin/true"],"priority":"50"}""", "priority")]
    [InlineData("""{"requestId":7,"command":["/bin/true"]}""", "requestId")]
    [InlineData("""{"requestId":"a","command":[1,2]}""", "command[0]")]
    public async Task A_body_that_is_not_a_job_request_answers_400_naming_the_field(string body, string field)
    {
        var (status, problem, _) = await Post(_api, Jobs, Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(FieldErrors(problem).Keys, key => key == field || key.StartsWith(field));
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    public async Task An_empty_or_null_body_answers_400(string body)
    {
        var (status, problem, _) = await Post(_api, Jobs, Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(400, (int?)problem["status"]);
    }

    [Fact]
    public async Task An_unknown_field_is_refused_with_a_400_that_names_it()
    {
        var (status, problem, _) = await Post(_api, Jobs, Json("""{"requestId":"a","command":["/bin/true"],"resources":{"cores":4}}"""));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var (field, message) = Assert.Single(FieldErrors(problem));
        Assert.Equal("resources.cores", field);
        Assert.Contains("unknown field 'cores'", message);
    }

    [Fact]
    public async Task A_field_given_twice_is_refused()
    {
        var (status, _, _) = await Post(_api, Jobs, Json("""{"requestId":"a","requestId":"b","command":["/bin/true"]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task Nesting_deeper_than_the_reader_allows_answers_400()
    {
        var deep = new string('[', 200) + new string(']', 200);
        var (status, _, _) = await Post(_api, Jobs, Json($$"""{"requestId":"a","command":["/bin/true"],"payload":{{deep}}}"""));

        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task A_body_without_a_content_type_answers_415()
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"requestId":"a","command":["/bin/true"]}"""));
        var (status, _, _) = await Post(_api, Jobs, content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
    }

    [Fact]
    public async Task A_body_that_is_not_json_by_its_content_type_answers_415()
    {
        var (status, problem, _) = await Post(_api, Jobs, new StringContent("requestId=a", Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Contains("application/json", (string?)problem["detail"]);
    }

    [Fact]
    public async Task A_body_over_the_size_limit_answers_413()
    {
        var huge = new string('x', 300 * 1024);
        var (status, _, _) = await Post(_api, Jobs, Json($$"""{"requestId":"a","command":["/bin/echo","{{huge}}"]}"""));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
    }

    [Theory]
    [InlineData("?limit=abc", "limit")]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=501", "limit")]
    [InlineData("?limit=99999999999999999999", "limit")]
    [InlineData("?limit=1&limit=2", "limit")]
    [InlineData("?state=Sleeping", "state")]
    [InlineData("?service=shell%0A", "service")]
    [InlineData("?cursor=!!!", "cursor")]
    [InlineData("?cursor=bm90IGEgY3Vyc29y", "cursor")] // "not a cursor"
    [InlineData("?cursor=OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw", "cursor")] // ticks overflow
    [InlineData("?cursor=LTE6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw", "cursor")] // negative ticks
    public async Task A_bad_query_parameter_answers_400_naming_it(string query, string field)
    {
        var (status, problem, _) = await Get(_api, Jobs + query);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(field, FieldErrors(problem).Keys);
    }

    [Fact]
    public async Task A_path_that_is_not_a_job_id_answers_404_problem_json()
    {
        var (status, _, _) = await Get(_api, Jobs + "/not-a-guid");

        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task A_valid_request_is_refused_only_after_validation_passed()
    {
        // Validation needs no database: a body with several mistakes lists them all at once.
        var (status, problem, _) = await Post(_api, Jobs, Json("""{"requestId":"a\n","service":"shell\n","priority":101}"""));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(["priority", "requestId", "service"], FieldErrors(problem).Keys.Order());
    }
}
