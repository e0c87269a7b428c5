using Bus.Gateway.Jobs;

namespace Bus.Gateway.Tests;

/// <summary>The validator's rules and limits, on plain request records.</summary>
public sealed class SubmitJobValidatorTests
{
    static SubmitJobRequest Request(
        string? requestId = "job-1", string? service = null, string[]? command = null, ResourcesBody? resources = null,
        ConstraintsBody? constraints = null, int? priority = null, int? timeoutSeconds = null, int? maxAttempts = null) =>
        new(requestId, service, command ?? ["/bin/true"], null, resources, constraints, priority, timeoutSeconds, maxAttempts);

    static IReadOnlyCollection<string> Fields(SubmitJobRequest request) => SubmitJobValidator.Validate(request).Errors.Keys;

    [Fact]
    public void A_minimal_request_gets_every_default()
    {
        var (submission, errors) = SubmitJobValidator.Validate(Request());

        Assert.Empty(errors);
        Assert.Equal("shell", submission!.Service);
        Assert.Equal((1, 0, 0), (submission.Resources.Cpus, submission.Resources.MemoryMb, submission.Resources.Gpus));
        Assert.Equal((50, 3600, 3), (submission.Priority, submission.TimeoutSeconds, submission.MaxAttempts));
    }

    [Theory]
    [InlineData("job-1\n")]
    [InlineData("job 1")]
    [InlineData("")]
    [InlineData("ключ")]
    public void A_request_id_must_match_to_the_real_end_of_the_string(string requestId) =>
        Assert.Contains("requestId", Fields(Request(requestId: requestId)));

    [Fact]
    public void A_request_id_of_128_characters_is_accepted_and_of_129_refused()
    {
        Assert.Empty(Fields(Request(requestId: new string('a', 128))));
        Assert.Contains("requestId", Fields(Request(requestId: new string('a', 129))));
    }

    [Fact]
    public void A_service_ending_in_a_newline_is_refused_instead_of_skipping_the_shell_rule()
    {
        Assert.Contains("service", Fields(Request(service: "shell\n", command: [])));
        Assert.Contains("command", Fields(Request(service: "shell", command: [])));
    }

    [Fact]
    public void Command_is_limited_in_arguments_and_in_bytes()
    {
        var many = Enumerable.Repeat("a", SubmitJobValidator.MaxCommandArguments).ToArray();
        Assert.Empty(Fields(Request(command: many)));
        Assert.Contains("command", Fields(Request(command: [.. many, "one-too-many"])));

        var exactly = new string('x', SubmitJobValidator.MaxCommandBytes - "/bin/echo".Length);
        Assert.Empty(Fields(Request(command: ["/bin/echo", exactly])));
        Assert.Contains("command", Fields(Request(command: ["/bin/echo", exactly + "x"])));
        // Counted in UTF-8 bytes, not characters: a three-byte character counts three.
        Assert.Contains("command", Fields(Request(command: ["/bin/echo", new string('€', SubmitJobValidator.MaxCommandBytes / 3 + 1)])));
    }

    [Fact]
    public void Command_arguments_a_process_or_the_database_could_not_take_are_refused()
    {
        Assert.Contains("command", Fields(Request(command: ["/bin/echo", "a\0rm"])));
        Assert.Contains("command", Fields(Request(command: ["/bin/echo", new string((char)0xD800, 1)])));
        Assert.Empty(Fields(Request(command: ["/bin/echo", "\U0001F600 paired surrogates are fine"])));
    }

    [Fact]
    public void Constraint_strings_are_limited_in_length_and_to_one_line()
    {
        Assert.Empty(Fields(Request(constraints: new ConstraintsBody(new string('l', 128), null, null, null))));
        Assert.Contains("constraints.language", Fields(Request(constraints: new ConstraintsBody(new string('l', 129), null, null, null))));
        Assert.Contains("constraints.pool", Fields(Request(constraints: new ConstraintsBody(null, "gpu\n", null, null))));
        Assert.Contains("constraints.excludeWorker", Fields(Request(constraints: new ConstraintsBody(null, null, "w\0", null))));
        Assert.Contains("constraints.affinityKey", Fields(Request(constraints: new ConstraintsBody(null, null, null, new string('k', 1000)))));
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(SubmitJobValidator.MaxCpus + 1, 0, 0)]
    [InlineData(1, -1, 0)]
    [InlineData(1, SubmitJobValidator.MaxMemoryMb + 1, 0)]
    [InlineData(1, 0, -1)]
    [InlineData(1, 0, SubmitJobValidator.MaxGpus + 1)]
    public void Resources_outside_their_range_are_refused(int cpus, int memoryMb, int gpus) =>
        Assert.NotEmpty(Fields(Request(resources: new ResourcesBody(cpus, memoryMb, gpus))));

    [Fact]
    public void A_job_larger_than_any_worker_but_inside_the_limits_is_still_accepted() =>
        Assert.Empty(Fields(Request(resources: new ResourcesBody(512, 0, 0))));

    [Theory]
    [InlineData(-1, null, null, "priority")]
    [InlineData(101, null, null, "priority")]
    [InlineData(null, 0, null, "timeoutSeconds")]
    [InlineData(null, SubmitJobValidator.MaxTimeoutSeconds + 1, null, "timeoutSeconds")]
    [InlineData(null, null, 0, "maxAttempts")]
    [InlineData(null, null, 11, "maxAttempts")]
    public void Numbers_outside_their_range_are_refused(int? priority, int? timeout, int? attempts, string field) =>
        Assert.Equal([field], Fields(Request(priority: priority, timeoutSeconds: timeout, maxAttempts: attempts)));
}
