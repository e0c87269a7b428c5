using Bus.Capacity;
using Bus.Hosting.Messaging;
using Bus.Worker.Consumers;
using Bus.Worker.Execution;
using Bus.Worker.Execution.Http;
using Bus.Worker.Journal;
using Bus.Worker.Recovery;
using Bus.Worker.Registration;
using Bus.Worker.Simulation;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Bus.Worker.Extensions;

public static class WorkerExtensions
{
    /// <summary>The services there is an executor for; a worker advertises only these.</summary>
    static readonly string[] BuiltInServices = ["shell", "noop"];

    public static IHostApplicationBuilder AddWorkerServices(this IHostApplicationBuilder builder)
    {
        var modelServices = builder.Configuration.GetSection($"{HttpExecutorOptions.Section}:{nameof(HttpExecutorOptions.Services)}")
            .GetChildren().Select(s => s.Key).ToArray();
        builder.Services.AddOptions<WorkerOptions>()
            .BindConfiguration(WorkerOptions.Section)
            .PostConfigure(ResolveDefaults)
            .Validate(o => System.Text.RegularExpressions.Regex.IsMatch(o.Id, "^[A-Za-z0-9._-]{1,64}$"),
                "Worker:Id must be 1 to 64 letters, digits, '.', '_' or '-'")
            .Validate(o => o.Cpus >= 1 && o.MemoryMb >= 0 && o.Gpus >= 0 && o.SlotLimit >= 1,
                "Worker: cpus and the slot limit must be at least 1; memory and gpus at least 0")
            .Validate(o => o.Simulate > 0 || o.Services.All(s => BuiltInServices.Contains(s) || modelServices.Contains(s)),
                $"Worker:Services names a service this worker has no executor for (it has: {string.Join(", ", BuiltInServices.Concat(modelServices))}; " +
                "a model service needs its endpoint in Worker:Http:Services)")
            .Validate(o => o.GpuDevices.Length == o.Gpus && o.GpuDevices.Distinct().Count() == o.Gpus
                    && o.GpuDevices.All(id => System.Text.RegularExpressions.Regex.IsMatch(id, @"^[A-Za-z0-9._:-]{1,128}\z")),
                "Worker:GpuDevices must be distinct ids of letters, digits, '.', '_', ':' or '-', as many as Worker:Gpus (or leave Worker:Gpus 0)")
            .Validate(o => o.RegistrationTtl >= o.HeartbeatInterval * 1.5,
                "Worker:RegistrationTtl must be at least 1.5 times Worker:HeartbeatInterval, or a live worker would flicker out")
            .Validate(o => o.Simulate is >= 0 and <= 2000 && (o.Simulate == 0 || o.Id.Length <= 59),
                "Worker:Simulate must be 0 to 2000, and a simulating process's Worker:Id at most 59 characters (its workers add -NNNN)")
            .Validate(o => o.JournalRetention > TimeSpan.Zero, "Worker:JournalRetention must be positive")
            .PostConfigure(o =>
            {
                if (string.IsNullOrWhiteSpace(o.StateDirectory))
                    o.StateDirectory = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "bus", "worker", o.Id);
            })
            .ValidateOnStart();

        builder.Services.AddOptions<IsolationOptions>()
            .BindConfiguration(IsolationOptions.Section)
            .Validate(o => EnforcementModes.All.Contains(o.Enforcement),
                $"Worker:Enforcement must be one of {string.Join(", ", EnforcementModes.All)}")
            .Validate(o => Path.IsPathRooted(o.ScratchRoot) && Path.IsPathRooted(o.CgroupRoot),
                "Worker:ScratchRoot and Worker:CgroupRoot must be absolute paths")
            .Validate(o => System.Text.RegularExpressions.Regex.IsMatch(o.CgroupParent, @"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*\z") && !o.CgroupParent.Split('/').Contains(".."),
                "Worker:CgroupParent must be a relative cgroup path such as 'bus'")
            .Validate(o => o.PidsLimit >= 1, "Worker:PidsLimit must be at least 1")
            .ValidateOnStart();

        builder.AddModelServices(modelServices);
        builder.AddCapacity();
        builder.Services.AddSingleton<WorkerPresence>();
        builder.Services.AddSingleton<AttemptJournal>();
        builder.Services.AddHostedService<WorkerIdLock>(); // before anything starts, the bus included (see the class)
        builder.Services.AddSingleton<ReportSender>();
        builder.Services.AddSingleton<IJobExecutor, NoopExecutor>();
        builder.Services.AddSingleton<JobRunner>();
        builder.Services.AddSingleton<WorkerLifecycle>();

        var workerId = builder.Configuration[$"{WorkerOptions.Section}:{nameof(WorkerOptions.Id)}"] ?? new WorkerOptions().Id;
        var simulate = builder.Configuration.GetValue($"{WorkerOptions.Section}:{nameof(WorkerOptions.Simulate)}", 0);
        var services = builder.Configuration.GetSection($"{WorkerOptions.Section}:{nameof(WorkerOptions.Services)}").Get<string[]>();
        var offersShell = simulate == 0 && (services is not { Length: > 0 } || services.Contains("shell"));
        if (offersShell)
        {
            // Run as another user, in a folder and a cgroup of its own: jobs are held to what they reserved.
            builder.Services.AddSingleton<JobSandbox>();
            builder.Services.AddSingleton(sp => ContainmentFactory.Choose(
                sp.GetRequiredService<IOptions<IsolationOptions>>().Value, workerId,
                sp.GetRequiredService<IOptions<WorkerOptions>>().Value.SlotLimit, sp.GetRequiredService<ILogger<IContainment>>()));
            builder.Services.AddSingleton<GpuBinding>();
            builder.Services.AddSingleton<IJobExecutor, ShellExecutor>();
        }
        builder.AddBus(
            x =>
            {
                x.AddConsumer<RunJobConsumer>().ExcludeFromConfigureEndpoints();
                x.AddConsumer<StopJobConsumer>().ExcludeFromConfigureEndpoints();
                x.AddConsumer<DrainWorkerConsumer>().ExcludeFromConfigureEndpoints();
                x.AddConsumer<ReconcileAttemptConsumer>().ExcludeFromConfigureEndpoints();
            },
            simulate > 0 ? null : (context, cfg) => cfg.ReceiveEndpoint(QueueNames.Worker(workerId), e =>
            {
                e.ConfigureConsumer<RunJobConsumer>(context);
                e.ConfigureConsumer<StopJobConsumer>(context);
                e.ConfigureConsumer<DrainWorkerConsumer>(context);
                e.ConfigureConsumer<ReconcileAttemptConsumer>(context);
            }));

        // Room for the grace period on SIGTERM, and for releasing and reporting after it.
        var grace = builder.Configuration.GetValue($"{WorkerOptions.Section}:{nameof(WorkerOptions.ShutdownGracePeriod)}", new WorkerOptions().ShutdownGracePeriod);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = grace + TimeSpan.FromSeconds(15));

        // Startup recovery's steps, in the order they look at each orphaned attempt.
        builder.Services.AddSingleton<IRecoveryStrategy, KillLeftoverProcess>();
        builder.Services.AddSingleton<IRecoveryStrategy, TimeOutOverdueAttempt>();
        builder.Services.AddSingleton<IRecoveryStrategy, FailLostAttempt>();

        if (simulate > 0)
        {
            // Many simulated workers instead of this one: no queue, registration or recovery of its own.
            // After the bus, which it connects their endpoints to, and stopped before it.
            builder.Services.AddHostedService<SimulatedWorkers>();
            return builder;
        }

        // After the bus, because recovery publishes, and because hosted services stop in reverse order: the
        // registrar drains the worker and its jobs report their ends while the bus still runs. Recovery runs
        // before the worker registers, so nothing new is placed here while it settles the old; leftovers of an
        // earlier process are killed before recovery reports their attempts.
        if (offersShell)
            builder.Services.AddHostedService<IsolationStartup>();
        builder.Services.AddHostedService<StartupRecovery>();
        builder.Services.AddHostedService<UnconfirmedReports>();
        builder.Services.AddHostedService<WorkerRegistrar>();
        return builder;
    }

    /// <summary>
    /// The <c>http</c> executor, one per model service configured in <c>Worker:Http:Services</c>, sharing one client:
    /// no proxy and no redirects (the endpoints are this host's own model servers, and a job's payload must not be
    /// sent anywhere else), no client timeout (the attempt's own timeout stops the request).
    /// </summary>
    static void AddModelServices(this IHostApplicationBuilder builder, string[] modelServices)
    {
        builder.Services.AddOptions<HttpExecutorOptions>()
            .BindConfiguration(HttpExecutorOptions.Section)
            .Validate(o => o.Services.Keys.All(s => !BuiltInServices.Contains(s)),
                "Worker:Http:Services cannot name a built-in service (shell, noop)")
            .Validate(o => o.Services.Values.SelectMany(e => e.AllUrls).All(IsHttpUrl),
                "Worker:Http:Services: every Url (and every Languages URL) must be an absolute http or https URL, without user:password (it is logged)")
            .Validate(o => o.MaxResultBytes is >= 2 and <= 16 * 1024 * 1024, "Worker:Http:MaxResultBytes must be 2 bytes to 16 MiB")
            .Validate(o => o.ModelNotAvailableStatus is null or (>= 400 and <= 599) && o.ModelNotAvailableStatus != 200,
                "Worker:Http:ModelNotAvailableStatus must be an HTTP error status (400-599)")
            .Validate(o => o.ConnectTimeout > TimeSpan.Zero, "Worker:Http:ConnectTimeout must be positive")
            .ValidateOnStart();
        if (modelServices.Length == 0)
            return;
        builder.Services.AddHttpClient(HttpExecutor.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                UseProxy = false,
                AllowAutoRedirect = false,
                ConnectTimeout = sp.GetRequiredService<IOptions<HttpExecutorOptions>>().Value.ConnectTimeout,
            });
        foreach (var service in modelServices)
            builder.Services.AddSingleton<IJobExecutor>(sp =>
            {
                var options = sp.GetRequiredService<IOptions<HttpExecutorOptions>>();
                return new HttpExecutor(service, options.Value.Services[service], sp.GetRequiredService<IHttpClientFactory>(), options,
                    sp.GetRequiredService<TimeProvider>());
            });
    }

    static bool IsHttpUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.UserInfo.Length == 0;

    /// <summary>
    /// Defaults that depend on other settings: the services when none are given (a configured list replaces the
    /// default rather than adding to it), and the GPU device ids (configured, numbered from the count, or detected).
    /// </summary>
    static void ResolveDefaults(WorkerOptions options)
    {
        if (options.Services.Length == 0)
            options.Services = WorkerOptions.DefaultServices;
        if (options.GpuDevices.Length == 0)
            options.GpuDevices = options.Gpus > 0
                ? Enumerable.Range(0, options.Gpus).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray()
                : options.Simulate > 0 ? [] : GpuDetection.Detect();
        if (options.Gpus == 0)
            options.Gpus = options.GpuDevices.Length;
    }
}
