using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bus.SystemTests.Support;

/// <summary>
/// The whole system for end-to-end tests: gateway, scheduler, reconciler and two workers as real processes, on the
/// real infrastructure, each test run with its own database, RabbitMQ virtual host and Redis key prefix.
/// </summary>
public sealed class RunningSystem : IAsyncLifetime
{
    public static string AdminKey => Repository.AdminKey;
    public static string UserKey => Repository.UserKey;
    public static string OtherTenantKey => Repository.OtherTenantKey;

    readonly List<ServiceProcess> _services = [];
    readonly IReadOnlyDictionary<string, string> _settings;
    Dictionary<string, string> _common = [];
    TestDatabase _database = null!;
    TestVirtualHost _vhost = null!;
    readonly string _stateRoot = Path.Combine(Path.GetTempPath(), $"bus-test-{Guid.NewGuid():N}");

    readonly Dictionary<string, Uri> _management = [];

    /// <summary>Where each core service answers /health and /metrics: the gateway on its API address, the others on a
    /// management port of their own.</summary>
    public IReadOnlyDictionary<string, Uri> ManagementAddresses => _management;

    public HttpClient Api { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    public string KeyPrefix { get; } = $"e2e-{Guid.NewGuid():N}:";

    /// <summary>The cgroup folder this run's workers make theirs in (<c>Worker:CgroupParent</c>).</summary>
    public string CgroupParent => $"bus-test-{KeyPrefix[4..16]}";

    /// <summary>
    /// Where a worker of this run keeps its cgroups, in every hierarchy this machine may have: the v1 controllers'
    /// and the unified one.
    /// </summary>
    public IReadOnlyList<string> CgroupFolders(string workerId) => [.. CgroupRoots().Select(r => Path.Combine(r, CgroupParent, workerId))];

    static IEnumerable<string> CgroupRoots() =>
        new[] { "cpu", "cpuacct", "memory", "pids", "freezer" }.Select(c => Path.Combine("/sys/fs/cgroup", c)).Append("/sys/fs/cgroup");
    public TestDatabase Database => _database;

    /// <summary>The RabbitMQ virtual host of this run, for a test that talks to the bus itself.</summary>
    public string VirtualHost => _vhost.Name;

    public RunningSystem() : this(new Dictionary<string, string>())
    {
    }

    /// <summary>A system whose services all get <paramref name="settings"/> on top of the usual test settings (e.g. pools).</summary>
    internal RunningSystem(IReadOnlyDictionary<string, string> settings) => _settings = settings;

    /// <summary>
    /// A system whose services reach PostgreSQL and RabbitMQ through <see cref="PostgresGate"/> and
    /// <see cref="RabbitGate"/>, so a test can take either away from them. The test's own <see cref="Database"/> goes direct.
    /// </summary>
    internal RunningSystem(IReadOnlyDictionary<string, string> settings, bool gated) : this(settings) => _gated = gated;

    readonly bool _gated;

    /// <summary>PostgreSQL as the services see it, when the system is gated.</summary>
    public TcpGate? PostgresGate { get; private set; }

    /// <summary>RabbitMQ as the services see it, when the system is gated.</summary>
    public TcpGate? RabbitGate { get; private set; }

    /// <summary>Starts the system; should that fail, stops what it had started, which xunit would otherwise leave running.</summary>
    public async Task InitializeAsync()
    {
        try
        {
            await Start();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    async Task Start()
    {
        _database = await TestDatabase.Create();
        _vhost = await TestVirtualHost.Create();
        BaseAddress = new Uri($"http://127.0.0.1:{FreePort()}");

        var postgres = _database.ConnectionString;
        var rabbitPort = TestEnvironment.RabbitPort;
        if (_gated)
        {
            var direct = new Npgsql.NpgsqlConnectionStringBuilder(postgres);
            PostgresGate = new TcpGate(direct.Host!, direct.Port);
            postgres = new Npgsql.NpgsqlConnectionStringBuilder(postgres) { Host = "127.0.0.1", Port = PostgresGate.Port }.ConnectionString;
            RabbitGate = new TcpGate(TestEnvironment.RabbitHost, TestEnvironment.RabbitPort);
            rabbitPort = RabbitGate.Port;
        }
        var common = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = postgres,
            ["ConnectionStrings__Redis"] = TestEnvironment.Redis,
            ["Redis__KeyPrefix"] = KeyPrefix,
            ["RabbitMq__Host"] = TestEnvironment.RabbitHost,
            ["RabbitMq__Port"] = rabbitPort.ToString(),
            ["RabbitMq__VirtualHost"] = _vhost.Name,
            ["RabbitMq__Username"] = TestEnvironment.RabbitUser,
            ["RabbitMq__Password"] = TestEnvironment.RabbitPassword,
            ["Scheduler__PendingRetryInterval"] = "00:00:01",
            ["Scheduler__RetryBaseDelay"] = "00:00:01",
            ["Worker__Services__0"] = "shell",
            ["Worker__Services__1"] = "noop",
            ["Worker__HeartbeatInterval"] = "00:00:02",
            ["Worker__RegistrationTtl"] = "00:00:06",
            // Every test system has a worker-a: a cgroup parent of this run's own, or a starting worker-a clears the
            // cgroups another system's live worker-a is using (a worker removes what it finds under its own id).
            ["Worker__CgroupParent"] = CgroupParent,
            ["Reconciler__LostWorkerSweepInterval"] = "00:00:01",
            ["Reconciler__StartLease"] = "00:00:05",
            // This run's own copy of the service catalogue, shared by its gateways and schedulers.
            ["Catalogue__CacheFile"] = CatalogueCacheFile,
            ["Catalogue__RefreshInterval"] = "00:00:02",
        };
        foreach (var (key, value) in _settings)
            common[key] = value;
        _common = common;
        // The settings this system was made with win over the per-service defaults below.
        Dictionary<string, string> With(params (string Key, string Value)[] extra)
        {
            var environment = new Dictionary<string, string>(common);
            foreach (var (key, value) in extra.Where(e => !_settings.ContainsKey(e.Key)))
                environment[key] = value;
            return environment;
        }

        (string, string) ManagementPort(string name)
        {
            var port = FreePort();
            _management[name] = new Uri($"http://127.0.0.1:{port}");
            return ("Management__Port", port.ToString());
        }

        _services.Add(ServiceProcess.Start("scheduler", "scheduler", "Bus.Scheduler", With(ManagementPort("scheduler"))));
        _services.Add(ServiceProcess.Start("reconciler", "reconciler", "Bus.Reconciler",
            With(("Reconciler__SyncInterval", "00:00:05"), ManagementPort("reconciler"))));
        _services.Add(ServiceProcess.Start("worker-a", "worker", "Bus.Worker", With(("Worker__Id", "worker-a"), ("Worker__Cpus", "2"), ("Worker__StateDirectory", WorkerState("worker-a")), ManagementPort("worker-a"))));
        _services.Add(ServiceProcess.Start("worker-b", "worker", "Bus.Worker", With(("Worker__Id", "worker-b"), ("Worker__Cpus", "4"), ("Worker__StateDirectory", WorkerState("worker-b")), ManagementPort("worker-b"))));
        _services.Add(ServiceProcess.Start("gateway", "gateway", "Bus.Gateway", With(("ASPNETCORE_URLS", BaseAddress.ToString()))));
        _management["gateway"] = BaseAddress;

        Api = Client(AdminKey);
        await Eventually.Get(async () =>
        {
            ThrowIfAServiceDied();
            try
            {
                var workers = await Api.GetFromJsonAsync<JsonArray>("/api/v1/workers");
                return workers?.Count ?? 0;
            }
            catch (HttpRequestException)
            {
                return 0;
            }
        }, count => count == 2, TimeSpan.FromSeconds(90), "the gateway answering with both workers registered");

        // Every service's bus connected and its endpoints declared: a SubmitJob sent before the scheduler has bound
        // its queue would otherwise have nowhere to go.
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var (name, address) in _management)
            await Eventually.Get(async () =>
            {
                ThrowIfAServiceDied();
                try { return (await probe.GetAsync(new Uri(address, "/health/ready"))).IsSuccessStatusCode; }
                catch (HttpRequestException) { return false; }
                catch (TaskCanceledException) { return false; }
            }, ready => ready, TimeSpan.FromSeconds(90), $"{name} ready");
    }

    /// <summary>Starts one more worker and waits until it is registered.</summary>
    public async Task<ServiceProcess> StartWorker(string workerId, int cpus, params (string Key, string Value)[] settings)
    {
        var worker = StartWorkerProcess(workerId, [("Worker__Cpus", cpus.ToString()), .. settings]);
        await Eventually.Get(async () => await WorkerIds(), ids => ids.Contains(workerId), TimeSpan.FromSeconds(60), $"{workerId} registered");
        return worker;
    }

    /// <summary>Starts one more worker process, without waiting for it.</summary>
    public ServiceProcess StartWorkerProcess(string workerId, params (string Key, string Value)[] settings)
    {
        var environment = new Dictionary<string, string>(_common) { ["Worker__Id"] = workerId, ["Worker__StateDirectory"] = WorkerState(workerId) };
        foreach (var (key, value) in settings)
            environment[key] = value;
        var worker = ServiceProcess.Start(workerId, "worker", "Bus.Worker", environment);
        _services.Add(worker);
        return worker;
    }

    /// <summary>Starts one more scheduler instance, without waiting for it.</summary>
    public ServiceProcess StartScheduler(string name, params (string Key, string Value)[] settings) =>
        StartService(name, "scheduler", "Bus.Scheduler", settings);

    /// <summary>Starts one more gateway and waits until it answers; returns it and a client for it with the admin key.</summary>
    public async Task<(ServiceProcess Gateway, HttpClient Api)> StartGateway(string name)
    {
        var address = new Uri($"http://127.0.0.1:{FreePort()}");
        var gateway = StartService(name, "gateway", "Bus.Gateway", [("ASPNETCORE_URLS", address.ToString())]);
        var api = new HttpClient(new ResponseRecorder(new HttpClientHandler())) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        await Eventually.Get(async () =>
        {
            if (gateway.HasExited)
                throw new InvalidOperationException($"{name} exited:\n{gateway.Output}");
            try { return (await api.GetAsync("/health/ready")).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
        }, ready => ready, TimeSpan.FromSeconds(60), $"{name} answering");
        return (gateway, api);
    }

    ServiceProcess StartService(string name, string service, string assembly, (string Key, string Value)[] settings)
    {
        var environment = new Dictionary<string, string>(_common);
        foreach (var (key, value) in settings)
            environment[key] = value;
        var process = ServiceProcess.Start(name, service, assembly, environment);
        _services.Add(process);
        return process;
    }

    /// <summary>Where this run's gateways and schedulers keep the service catalogue's cold-start copy.</summary>
    public string CatalogueCacheFile => Path.Combine(_stateRoot, "catalogue-cache.json");

    /// <summary>This run's state folder of a worker: the same for a worker restarted with the same id.</summary>
    public string WorkerState(string workerId) => Path.Combine(_stateRoot, workerId);

    /// <summary>The ids of the workers the API lists as live.</summary>
    public async Task<string[]> WorkerIds() =>
        (await Api.GetFromJsonAsync<JsonArray>("/api/v1/workers"))!.Select(w => (string)w!["workerId"]!).ToArray();

    public HttpClient Client(string? apiKey)
    {
        var client = new HttpClient(new ResponseRecorder(new HttpClientHandler())) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    /// <summary>Polls a job until it reaches one of <paramref name="states"/>.</summary>
    public Task<JsonObject> WaitForJob(string jobId, params string[] states) =>
        Eventually.Get(async () =>
        {
            ThrowIfAServiceDied();
            return (await Api.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{jobId}"))!;
        }, job => states.Contains((string?)job["state"]), TimeSpan.FromSeconds(60), $"job {jobId} to reach {string.Join("/", states)}");

    public Task<(HttpStatusCode Status, JsonObject Body)> Submit(object body, HttpClient? client = null) => Post("/api/v1/jobs", body, client);

    /// <summary>An array submission of <paramref name="jobs"/>, each a single submission's body.</summary>
    public Task<(HttpStatusCode Status, JsonObject Body)> SubmitBatch(IEnumerable<object> jobs, HttpClient? client = null) =>
        Post("/api/v1/jobs:batch", new { jobs }, client);

    async Task<(HttpStatusCode Status, JsonObject Body)> Post(string path, object body, HttpClient? client)
    {
        var response = await (client ?? Api).PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 ? JsonNode.Parse(text)!.AsObject() : []);
    }

    void ThrowIfAServiceDied()
    {
        // Workers may be stopped on purpose by a test; the core services must not die.
        foreach (var service in _services.Take(5).Where(s => s.HasExited))
            throw new InvalidOperationException($"{service.Name} exited:\n{service.Output}");
    }

    /// <summary>Every service's output, for a failing test's message.</summary>
    public string Logs => string.Join("\n", _services.Select(s => $"===== {s.Name}\n{s.Output}"));

    public async Task DisposeAsync()
    {
        Api?.Dispose();
        foreach (var service in Enumerable.Reverse(_services))
            await service.DisposeAsync();
        if (PostgresGate is not null)
            await PostgresGate.DisposeAsync();
        if (RabbitGate is not null)
            await RabbitGate.DisposeAsync();
        if (_vhost is not null)
            await _vhost.DisposeAsync();
        if (_database is not null)
            await _database.DisposeAsync();
        if (Directory.Exists(_stateRoot))
            Directory.Delete(_stateRoot, recursive: true);
        RemoveCgroups();
        RemoveWorkerLocks();
    }

    /// <summary>
    /// Removes the id lock files this run's workers left in <c>/run/bus-worker</c> (the worker's <c>WorkerIdLock</c>,
    /// named after the cgroup folder). A worker keeps its file, since deleting a lock file others may open races; once
    /// every worker of the run has ended nobody holds them, and each run's cgroup folder is its own.
    /// </summary>
    void RemoveWorkerLocks()
    {
        const string folder = "/run/bus-worker";
        if (!Directory.Exists(folder))
            return;
        foreach (var file in Directory.EnumerateFiles(folder, $"{CgroupParent}--*.lock"))
        {
            try
            {
                File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not ours to delete (a worker not run as root keeps its lock in its state folder instead).
            }
        }
    }

    /// <summary>
    /// Removes this run's cgroup folder in every hierarchy, deepest first (rmdir: it fails on a cgroup that still has
    /// a process, which is then left). A worker that was killed, not stopped, leaves its cgroups, and the kernel keeps
    /// them until removed: thousands of them make every CPU quota written on the machine slower.
    /// </summary>
    void RemoveCgroups()
    {
        foreach (var folder in CgroupRoots().Select(r => Path.Combine(r, CgroupParent)).Where(Directory.Exists))
        {
            string[] cgroups;
            try
            {
                cgroups = [.. Directory.EnumerateDirectories(folder, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(folder)];
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // removed meanwhile, or not ours to read
            }
            foreach (var cgroup in cgroups)
            {
                try
                {
                    Directory.Delete(cgroup, recursive: false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Still has a process, or a child that had one.
                }
            }
        }
    }

    static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A loopback port nothing listens on now, for a service to bind a moment later. Not one the kernel hands out
    /// (32768 and up): those are also the local ports of outgoing connections, and one of the many the services open
    /// could take it in between. Below them, and above the project's own fixed ports.
    /// </summary>
    internal static int FreePort()
    {
        while (true)
        {
            var port = Random.Shared.Next(26000, 32700);
            // Never the same port twice in this process: a port handed out is free now, but its service binds it only
            // once it is ready (a gateway waits for the schema first), and another system starting meanwhile must
            // not be handed it too.
            lock (HandedOut)
                if (!HandedOut.Add(port))
                    continue;
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // taken; try another
            }
        }
    }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}
