using System.Buffers.Binary;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.Capacity.Redis;
using Bus.SystemTests.Support;
using StackExchange.Redis;

namespace Bus.SystemTests;

/// <summary>
/// Model services through the worker's http executor, end to end: real workers POSTing to the real sample speech
/// server (samples/tts-server, running espeak-ng), or to a model server that hangs. Each test brings its own workers,
/// offering <c>tts</c> for a language no other test's workers offer, so its jobs run only there.
/// </summary>
public sealed class ModelServiceTests(ModelServiceTests.System fixture) : IClassFixture<ModelServiceTests.System>
{
    public sealed class System : IAsyncLifetime
    {
        public RunningSystem Running { get; } = new();
        public Task InitializeAsync() => Running.InitializeAsync();
        public Task DisposeAsync() => Running.DisposeAsync();
    }

    readonly RunningSystem _system = fixture.Running;

    [Fact]
    public async Task A_tts_job_completes_with_the_model_servers_result_on_the_job_and_its_stream_and_the_wav_is_real_audio()
    {
        await using var tts = await TtsServer.Start("tts-say");
        await _system.StartWorker("ms-say", cpus: 2, TtsWorker(tts.SynthesizeUrl, "en"));

        var jobId = await Submit("en", "The quick brown fox jumps over the lazy dog, twice, so that the audio is long.");
        await using var events = await SseStream.Open(_system.Api, $"/api/v1/jobs/{jobId}/events");
        var final = (await events.Until(e => e.Type == "end", TimeSpan.FromSeconds(60))).Last();
        var job = await _system.WaitForJob(jobId, "Completed", "Failed", "TimedOut", "Cancelled");

        Assert.Equal(("Completed", "ms-say"), ((string?)job["state"], (string?)job["workerId"]));
        var result = job["result"]!.AsObject();
        Assert.Equal(result.ToJsonString(), final.Data["result"]!.ToJsonString()); // the stream's end carries it too
        Assert.Equal("en", (string?)result["language"]);

        // The WAV it points to is real audio: a RIFF/WAVE file whose header agrees with its length and the duration.
        var wav = await File.ReadAllBytesAsync((string)result["wav"]!);
        Assert.Equal("RIFF", global::System.Text.Encoding.ASCII.GetString(wav, 0, 4));
        Assert.Equal("WAVE", global::System.Text.Encoding.ASCII.GetString(wav, 8, 4));
        Assert.Equal(wav.Length, BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(4)) + 8);
        Assert.Equal(wav.Length, (long)result["bytes"]!);
        var byteRate = BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(28));
        var seconds = (double)result["durationSeconds"]!;
        Assert.InRange(seconds, 2.0, 30.0); // a sentence of about twenty words
        Assert.InRange((wav.Length - 44) / (double)byteRate, seconds - 0.01, seconds + 0.01);
        Assert.Null(result["audioBase64"]); // larger than the inline limit

        // A short one comes inline as well, byte for byte the file it wrote.
        var shortJob = await _system.WaitForJob(await Submit("en", "Hi."), "Completed", "Failed");
        var inline = shortJob["result"]!.AsObject();
        Assert.Equal(await File.ReadAllBytesAsync((string)inline["wav"]!), Convert.FromBase64String((string)inline["audioBase64"]!));
    }

    [Fact]
    public async Task A_model_server_without_the_language_makes_placement_skip_that_worker_for_tts_and_the_job_completes_on_another()
    {
        await using var englishOnly = await TtsServer.Start("tts-en-only", "en");
        await using var full = await TtsServer.Start("tts-full");
        // Both advertise German; a's model server lacks it. Equally idle, a (the lower id) is tried first.
        await _system.StartWorker("ms-na-a", cpus: 2, TtsWorker(englishOnly.SynthesizeUrl, "de"));
        await _system.StartWorker("ms-na-b", cpus: 2, TtsWorker(full.SynthesizeUrl, "de"));

        var first = await _system.WaitForJob(await Submit("de", "Guten Morgen.", maxAttempts: 1), "Completed", "Failed");
        Assert.Equal(("Completed", "ms-na-b"), ((string?)first["state"], (string?)first["workerId"]));
        Assert.True((int)first["attempt"]! >= 2, $"handed back by ms-na-a first: {first}"); // and with maxAttempts 1: no failure counted
        Assert.Equal("de", (string?)first["result"]!["language"]);

        using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        var ttl = await redis.GetDatabase().KeyTimeToLiveAsync(new RedisKeys(_system.KeyPrefix).ServiceUnavailable("ms-na-a", "tts"));
        Assert.InRange(ttl!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(30));

        // For the TTL, placement does not even try a: the next German job goes to b at its first attempt.
        var second = await _system.WaitForJob(await Submit("de", "Guten Abend."), "Completed", "Failed");
        Assert.Equal(("Completed", "ms-na-b", 1), ((string?)second["state"], (string?)second["workerId"], (int)second["attempt"]!));
    }

    [Fact]
    public async Task A_hanging_model_server_is_timed_out_or_cancelled_and_its_request_aborted()
    {
        await using var hanging = new RecordingModelServer();
        // One slot: a model job holds it for as long as its request hangs, as a shell job holds it while it runs.
        await _system.StartWorker("ms-hang", cpus: 2, [.. TtsWorker(hanging.Url, "fi"), ("Worker__MaxConcurrentJobs", "1")]);

        var timedOut = await Submit("fi", "Hyvää päivää.", timeoutSeconds: 2);
        var job = await _system.WaitForJob(timedOut, "TimedOut", "Completed", "Failed");
        Assert.Equal(("TimedOut", "timed out: killed after its timeoutSeconds"), ((string?)job["state"], (string?)job["error"]));
        var request = Assert.Single(hanging.Requests);
        Assert.Equal((timedOut, 1, "tts", "fi", "Hyvää päivää."), ((string?)request.Body["jobId"], (int)request.Body["attempt"]!,
            (string?)request.Body["service"], (string?)request.Body["language"], (string?)request.Body["payload"]!["text"]));
        var deadline = DateTimeOffset.Parse((string)request.Body["deadline"]!);
        Assert.InRange(deadline - DateTimeOffset.Parse((string)job["startedAt"]!), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3));
        await Eventually.Get(() => Task.FromResult(request.Closed), closed => closed, TimeSpan.FromSeconds(10), "the timed-out request aborted");

        var cancelled = await Submit("fi", "Näkemiin.", timeoutSeconds: 600);
        var second = await Eventually.Get(() => Task.FromResult(hanging.Requests.FirstOrDefault(r => (string?)r.Body["jobId"] == cancelled)),
            r => r is not null, TimeSpan.FromSeconds(30), "the second request at the model server");
        var queued = await Submit("fi", "Kiitos.", timeoutSeconds: 600);
        var waiting = await Eventually.Get(() => _system.Api.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{queued}")!,
            j => ((string?)j!["pendingReason"])?.Contains("full") == true, TimeSpan.FromSeconds(20), "the third job waiting for the slot");
        Assert.Equal("Pending", (string?)waiting!["state"]);

        (await _system.Api.PostAsync($"/api/v1/jobs/{cancelled}/cancel", null)).EnsureSuccessStatusCode();
        Assert.Equal("Cancelled", (string?)(await _system.WaitForJob(cancelled, "Cancelled", "Completed", "Failed"))["state"]);
        await Eventually.Get(() => Task.FromResult(second!.Closed), closed => closed, TimeSpan.FromSeconds(10), "the cancelled request aborted");

        // The slot freed, the waiting job takes it and reaches the model server in turn.
        Assert.Equal("ms-hang", (string?)(await _system.WaitForJob(queued, "Running"))["workerId"]);
        await Eventually.Get(() => Task.FromResult(hanging.Requests.Any(r => (string?)r.Body["jobId"] == queued)), seen => seen,
            TimeSpan.FromSeconds(30), "the third request at the model server");
        (await _system.Api.PostAsync($"/api/v1/jobs/{queued}/cancel", null)).EnsureSuccessStatusCode();
        await _system.WaitForJob(queued, "Cancelled");
    }

    [Fact]
    public async Task A_worker_killed_during_a_model_request_loses_the_attempt_and_the_job_completes_once_on_another_worker()
    {
        await using var hanging = new RecordingModelServer();
        await using var tts = await TtsServer.Start("tts-after-kill");
        // Equally idle, a (the lower id) gets the job first, and its model server never answers.
        var doomed = await _system.StartWorker("ms-kill-a", cpus: 2, TtsWorker(hanging.Url, "nl"));
        await _system.StartWorker("ms-kill-b", cpus: 2, TtsWorker(tts.SynthesizeUrl, "nl"));

        var jobId = await Submit("nl", "Goedemorgen.", maxAttempts: 2);
        var request = await Eventually.Get(() => Task.FromResult(hanging.Requests.FirstOrDefault()), r => r is not null,
            TimeSpan.FromSeconds(30), "the request at a's model server");
        doomed.KillHard();
        await Eventually.Get(() => Task.FromResult(request!.Closed), closed => closed, TimeSpan.FromSeconds(10), "the request gone with the worker");

        // Lost with its worker once the registration lapses, and run again, once, on b.
        var job = await _system.WaitForJob(jobId, "Completed", "Failed");
        Assert.Equal(("Completed", "ms-kill-b", 2, "nl"),
            ((string?)job["state"], (string?)job["workerId"], (int)job["attempt"]!, (string?)job["result"]!["language"]));
        Assert.Single(Directory.GetFiles(tts.ResultsDirectory, $"{Guid.Parse(jobId):N}-*.wav"));
    }

    [Fact]
    public async Task Model_server_answers_are_judged_by_the_contract_a_configured_status_a_5xx_a_bare_503_and_a_body_that_is_not_json()
    {
        await using var statusOnly = new RecordingModelServer((424, "{}"));
        await using var broken = new RecordingModelServer((500, "model crashed"));
        await using var bare503 = new RecordingModelServer((503, "{\"error\":\"OVERLOADED\"}"));
        await using var notJson = new RecordingModelServer((200, "<html>hello</html>"));
        await using var tts = await TtsServer.Start("tts-contract");
        await Task.WhenAll(
            _system.StartWorker("ms-424-a", cpus: 2, [.. TtsWorker(statusOnly.Url, "da"), ("Worker__Http__ModelNotAvailableStatus", "424")]),
            _system.StartWorker("ms-500", cpus: 2, TtsWorker(broken.Url, "pl")),
            _system.StartWorker("ms-503", cpus: 2, TtsWorker(bare503.Url, "hu")),
            _system.StartWorker("ms-html", cpus: 2, TtsWorker(notJson.Url, "cs")));

        // The configured status means model-not-available whatever the body: handed back, done elsewhere, no failure.
        // The other Danish worker starts only once a has answered, so the job surely tries a first.
        var danish = await Submit("da", "God morgen.", maxAttempts: 1);
        await Eventually.Get(() => Task.FromResult(statusOnly.Requests.Count), n => n > 0, TimeSpan.FromSeconds(30), "the request at a's model server");
        await _system.StartWorker("ms-424-b", cpus: 2, TtsWorker(tts.SynthesizeUrl, "da"));
        var handedBack = await _system.WaitForJob(danish, "Completed", "Failed");
        Assert.Equal(("Completed", "ms-424-b"), ((string?)handedBack["state"], (string?)handedBack["workerId"]));

        // A server error fails the attempt and is retried; its body is the output.
        var crashed = await _system.WaitForJob(await Submit("pl", "Dzień dobry.", maxAttempts: 2), "Completed", "Failed");
        Assert.Equal(("Failed", 2, "the model server answered 500 Canned", "model crashed"),
            ((string?)crashed["state"], (int)crashed["attempt"]!, (string?)crashed["error"], (string?)crashed["output"]));
        Assert.Equal(2, broken.Requests.Count);

        // A 503 without the documented body is a server error like any other, not a model-not-available.
        var overloaded = await _system.WaitForJob(await Submit("hu", "Jó napot.", maxAttempts: 1), "Completed", "Failed");
        Assert.Equal(("Failed", "the model server answered 503 Canned"), ((string?)overloaded["state"], (string?)overloaded["error"]));

        var html = await _system.WaitForJob(await Submit("cs", "Dobrý den.", maxAttempts: 1), "Completed", "Failed");
        Assert.Equal(("Failed", "the model server's answer is not JSON", "<html>hello</html>"),
            ((string?)html["state"], (string?)html["error"], (string?)html["output"]));
    }

    [Fact]
    public async Task A_language_can_have_its_own_endpoint_and_a_request_the_model_server_refuses_fails_without_a_retry()
    {
        await using var frenchOnly = await TtsServer.Start("tts-fr-only", "fr");
        await using var full = await TtsServer.Start("tts-es");
        await _system.StartWorker("ms-multi", cpus: 2,
        [
            ("Worker__Services__0", "tts"), ("Worker__Services__1", "noop"),
            ("Worker__Languages__0", "fr"), ("Worker__Languages__1", "es"),
            ("Worker__Http__Services__tts__Url", frenchOnly.SynthesizeUrl),
            ("Worker__Http__Services__tts__Languages__es", full.SynthesizeUrl),
        ]);

        // Each language reaches the server configured for it, so neither is model-not-available: both at attempt 1.
        foreach (var (language, text) in new[] { ("fr", "Bonjour."), ("es", "Buenos días.") })
        {
            var job = await _system.WaitForJob(await Submit(language, text), "Completed", "Failed");
            Assert.Equal(("Completed", "ms-multi", 1, language),
                ((string?)job["state"], (string?)job["workerId"], (int)job["attempt"]!, (string?)job["result"]!["language"]));
        }

        // A payload the server refuses (400: no text) cannot succeed on another try: it fails at once, saying why.
        var (_, accepted) = await _system.Submit(new
        {
            requestId = $"tts-{Guid.NewGuid():N}", service = "tts", payload = new { words = "no text field" },
            constraints = new { language = "fr" }, maxAttempts = 3,
        });
        var refused = await _system.WaitForJob((string)accepted["jobId"]!, "Completed", "Failed");
        Assert.Equal(("Failed", 1, "the model server answered 400 Bad Request"),
            ((string?)refused["state"], (int)refused["attempt"]!, (string?)refused["error"]));
        Assert.Contains("payload.text is required", (string?)refused["output"]);
    }

    [Fact]
    public async Task A_worker_offering_a_model_service_without_an_endpoint_or_with_credentials_in_its_url_refuses_to_start()
    {
        var noEndpoint = _system.StartWorkerProcess("ms-no-endpoint", ("Worker__Services__0", "tts"), ("Worker__Services__1", "noop"));
        var credentials = _system.StartWorkerProcess("ms-credentials", TtsWorker("http://user:secret@127.0.0.1:9/synthesize", "sv"));
        foreach (var worker in new[] { noEndpoint, credentials })
            await worker.Exited(TimeSpan.FromSeconds(60)); // refusing to start
        Assert.NotEqual(0, noEndpoint.ExitCode);
        Assert.Contains("a model service needs its endpoint in Worker:Http:Services", noEndpoint.Output);
        Assert.NotEqual(0, credentials.ExitCode);
        Assert.Contains("without user:password", credentials.Output);
        Assert.DoesNotContain("secret", credentials.Output);
    }

    [Fact]
    public async Task A_result_over_the_limit_or_a_model_server_that_refuses_connections_fails_the_attempt()
    {
        await using var tts = await TtsServer.Start("tts-big");
        await _system.StartWorker("ms-big", cpus: 2, [.. TtsWorker(tts.SynthesizeUrl, "it"), ("Worker__Http__MaxResultBytes", "200")]);
        var big = await _system.WaitForJob(await Submit("it", "Buongiorno a tutti.", maxAttempts: 1), "Completed", "Failed");
        Assert.Equal(("Failed", "the model server's result is larger than Worker:Http:MaxResultBytes (200 bytes)"),
            ((string?)big["state"], (string?)big["error"]));
        Assert.Null(big["result"]);

        // Nothing listens there: each attempt fails, and is retried as any failed attempt is, until none is left.
        await _system.StartWorker("ms-refused", cpus: 2, TtsWorker($"http://127.0.0.1:{RunningSystem.FreePort()}/synthesize", "pt"));
        var refused = await _system.WaitForJob(await Submit("pt", "Bom dia.", maxAttempts: 2), "Completed", "Failed");
        Assert.Equal(("Failed", 2), ((string?)refused["state"], (int)refused["attempt"]!));
        Assert.StartsWith("the model server at http://127.0.0.1:", (string?)refused["error"]);
        Assert.Contains("could not be reached", (string?)refused["error"]);
    }

    /// <summary>
    /// A worker offering <c>tts</c> for one language, served by the model server at <paramref name="url"/>. The test
    /// settings give every worker a second service, which stays <c>noop</c>: no tts test submits one.
    /// </summary>
    internal static (string, string)[] TtsWorker(string url, string language) =>
    [
        ("Worker__Services__0", "tts"),
        ("Worker__Services__1", "noop"),
        ("Worker__Languages__0", language),
        ("Worker__Http__Services__tts__Url", url),
    ];

    async Task<string> Submit(string language, string text, int maxAttempts = 3, int timeoutSeconds = 60)
    {
        var (status, accepted) = await _system.Submit(new
        {
            requestId = $"tts-{Guid.NewGuid():N}",
            service = "tts",
            payload = new { text },
            constraints = new { language },
            maxAttempts,
            timeoutSeconds,
        });
        Assert.Equal(global::System.Net.HttpStatusCode.Accepted, status);
        return (string)accepted["jobId"]!;
    }
}
