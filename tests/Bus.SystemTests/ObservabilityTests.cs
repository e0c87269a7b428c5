using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.SystemTests.Support;

namespace Bus.SystemTests;

/// <summary>
/// What an operator reaches without an API key: every service's health and metrics, and a real Prometheus (Debian's)
/// that scrapes them all with the project's alert rules loaded.
/// </summary>
public sealed class ObservabilityTests(RunningSystem system) : IClassFixture<RunningSystem>
{
    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Every_service_answers_health_with_per_check_detail_and_metrics_without_a_key()
    {
        Assert.Equal(["gateway", "reconciler", "scheduler", "worker-a", "worker-b"], system.ManagementAddresses.Keys.Order());
        foreach (var (service, address) in system.ManagementAddresses)
        {
            // A service is up before its bus has finished connecting; ready follows within moments.
            var health = await Eventually.Get(
                async () => (await (await Http.GetAsync(new Uri(address, "/health/ready"))).Content.ReadFromJsonAsync<JsonObject>())!,
                h => (string?)h["status"] == "Healthy", TimeSpan.FromSeconds(60), $"{service} ready");
            Assert.Equal("Healthy", (string?)health["status"]);
            Assert.Equal(["endpoints", "masstransit-bus", "postgres", "redis"], health["checks"]!.AsObject().Select(c => c.Key).Order());

            var live = await Http.GetAsync(new Uri(address, "/health/live"));
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);

            var metrics = await Http.GetStringAsync(new Uri(address, "/metrics"));
            Assert.Contains("dotnet_gc_collections_total", metrics);
        }
    }

    [Fact]
    public async Task Domain_metrics_count_a_finished_job_and_show_each_workers_capacity()
    {
        var (_, accepted) = await system.Submit(new { requestId = $"obs-{Guid.NewGuid():N}", command = new[] { "/bin/true" } });
        await system.WaitForJob((string)accepted["jobId"]!, "Completed");

        var scheduler = system.ManagementAddresses["scheduler"];
        var metrics = await Eventually.Get(() => Http.GetStringAsync(new Uri(scheduler, "/metrics")),
            text => text.Contains("bus_scheduler_jobs_finished_total{") && text.Contains("bus_scheduler_worker_capacity{"),
            TimeSpan.FromSeconds(30), "the scheduler's domain metrics");
        Assert.Matches(@"bus_scheduler_jobs_finished_total\{[^}]*service=""shell"",state=""Completed""\} [1-9]", metrics);
        Assert.Matches(@"bus_scheduler_worker_capacity\{[^}]*resource=""cpus"",worker=""worker-b""\} 4", metrics);
        Assert.Matches(@"bus_scheduler_reservation_duration_milliseconds_count\{[^}]*store=""redis""\} [1-9]", metrics);
        Assert.Contains("bus_scheduler_job_start_latency_seconds_bucket", metrics);

        var gateway = await Eventually.Get(() => Http.GetStringAsync(new Uri(system.BaseAddress, "/metrics")),
            text => System.Text.RegularExpressions.Regex.IsMatch(text, @"bus_gateway_jobs\{[^}]*state=""Completed""\} [1-9]"),
            TimeSpan.FromSeconds(30), "the gateway's jobs-by-state gauge counting the job");
        Assert.Contains("bus_gateway_jobs_oldest_pending_age_seconds", gateway);
    }

    [Fact]
    public async Task A_real_prometheus_scrapes_every_service_and_rabbitmq_with_the_alert_rules_loaded()
    {
        var port = RunningSystem.FreePort();
        var directory = Directory.CreateTempSubdirectory("bus-prometheus-").FullName;
        var targets = string.Join(' ', system.ManagementAddresses.Select(m => $"{m.Key}={m.Value.Authority}"));
        (string, string)[] settings =
        [
            ("BUS_PROMETHEUS_PORT", port.ToString()), ("BUS_PROMETHEUS_DIR", directory), ("BUS_PROMETHEUS_TARGETS", targets),
            ("BUS_RABBIT_PROMETHEUS_PORT", TestEnvironment.RabbitPrometheusPort.ToString()),
        ];
        await Script(settings, "up");
        try
        {
            var prometheus = new Uri($"http://127.0.0.1:{port}");
            var active = await Eventually.Get(
                async () => (await Http.GetFromJsonAsync<JsonObject>(new Uri(prometheus, "/api/v1/targets")))!["data"]!["activeTargets"]!.AsArray(),
                list => list.Count == 7 && list.All(t => (string?)t!["health"] == "up"),
                TimeSpan.FromSeconds(60), "all 7 targets (5 services, RabbitMQ twice) up");
            Assert.Equal(["gateway", "reconciler", "scheduler", "worker-a", "worker-b"],
                active.Select(t => (string?)t!["labels"]!["service"]).OfType<string>().Order());

            var rules = (await Http.GetFromJsonAsync<JsonObject>(new Uri(prometheus, "/api/v1/rules")))!;
            var alerts = rules["data"]!["groups"]!.AsArray().SelectMany(g => g!["rules"]!.AsArray()).Select(r => (string?)r!["name"]).ToList();
            Assert.Equal(["BusErrorQueueNotEmpty", "BusJobsPendingLong", "BusNoLiveWorkers", "BusRedisFallbackActive", "BusSyncDriftFound", "BusUtilizationHigh"],
                alerts.Order());

            // A scraped domain series, queried back: what a dashboard or alert would read.
            var workers = await Eventually.Get(
                async () => (await Http.GetFromJsonAsync<JsonObject>(new Uri(prometheus, "/api/v1/query?query=bus_scheduler_workers")))!["data"]!["result"]!.AsArray(),
                result => result.Count == 1, TimeSpan.FromSeconds(60), "bus_scheduler_workers scraped");
            Assert.Equal("2", (string?)workers[0]!["value"]![1]);
        }
        finally
        {
            await Script(settings, "down");
        }
    }

    static async Task Script((string Key, string Value)[] environment, string command)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(TestEnvironment.RepoRoot, "infra", "prometheus.sh"), command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(deadline.Token);
        Assert.True(process.ExitCode == 0, $"infra/prometheus.sh {command} exited {process.ExitCode}:\n{await output}\n{await errors}");
    }
}
