using System.Diagnostics;
using Bus.Capacity.Ledger;
using Bus.Contracts;
using Bus.Hosting.Messaging;
using Bus.Worker.Consumers;
using Bus.Worker.Execution;
using Bus.Worker.Journal;
using Bus.Worker.Registration;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Bus.Worker.Simulation;

/// <summary>
/// The scale simulation (<see cref="WorkerOptions.Simulate"/>): this process hosts N workers instead of being one.
/// To the rest of the system each is a real worker: it joins, heartbeats and leaves through <see cref="WorkerPresence"/>
/// (its row in <c>workers</c>, its Redis registration and counters), and its own queue's RunJob and StopJob go through
/// the ordinary consumers into the one <see cref="JobRunner"/>, which can serve them all because everything it does is
/// keyed by the job's worker id. The <c>noop</c> executor runs the jobs, so the fencing check, JobStarted, the release
/// and JobCompleted are the real ones. What a benchmark of placement does not need is left out: drain, and startup
/// recovery (a noop job leaves no process behind).
/// </summary>
public sealed class SimulatedWorkers(
    IReceiveEndpointConnector endpoints,
    WorkerPresence presence,
    IBus bus,
    JobRunner runner,
    AllocationStore allocations,
    AttemptJournal journal,
    ReportSender reports,
    WorkerLifecycle lifecycle,
    IOptions<WorkerOptions> options,
    TimeProvider clock,
    ILoggerFactory loggers) : BackgroundService
{
    // Joining is a few round trips to PostgreSQL, Redis and RabbitMQ per worker: a few at a time, so a thousand
    // workers join in seconds without flooding any of them.
    const int Concurrency = 8;

    readonly WorkerOptions _host = options.Value;
    readonly ILogger _logger = loggers.CreateLogger<SimulatedWorkers>();
    readonly List<WorkerOptions> _workers = [];
    DateTimeOffset[] _joinedAt = [];

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        _workers.AddRange(Enumerable.Range(1, _host.Simulate).Select(Simulated));
        _joinedAt = new DateTimeOffset[_workers.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, _workers.Count), Parallelism(cancellationToken), Join);
        _logger.LogInformation("Simulating {Count} workers, {First} to {Last}, {Cpus} cpus and {Slots} slots each, noop only; joined in {Seconds:F1} s",
            _workers.Count, _workers[0].Id, _workers[^1].Id, _host.Cpus, _host.SlotLimit, Stopwatch.GetElapsedTime(started).TotalSeconds);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>
    /// One timer for all the workers' heartbeats. Worker i of N first beats i/N of an interval after it joined, so the
    /// beats start spread evenly, and every later beat is jittered by ±10%, as a real worker's: N workers cost
    /// N / interval beats a second, never N at once.
    /// </summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = _host.HeartbeatInterval;
        var due = new PriorityQueue<WorkerOptions, DateTimeOffset>(
            _workers.Select((w, i) => (w, _joinedAt[i] + interval * ((i + 1.0) / _workers.Count))));
        try
        {
            while (due.TryPeek(out _, out var next))
            {
                var wait = next - clock.GetUtcNow();
                if (wait > TimeSpan.Zero)
                    await Task.Delay(wait, clock, stoppingToken);
                var now = clock.GetUtcNow();
                var beating = new List<WorkerOptions>();
                while (due.TryPeek(out var worker, out var at) && at <= now)
                {
                    due.Dequeue();
                    beating.Add(worker);
                    due.Enqueue(worker, now + interval * (1 + (Random.Shared.NextDouble() - 0.5) / 5));
                }
                await Task.WhenAll(beating.Select(w => Beat(w, stoppingToken).AsTask()));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// SIGTERM, as a real worker takes it: every worker registered as draining at once, so nothing new is placed here;
    /// running jobs end or are handed back while the heartbeats go on; then every worker leaves.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        lifecycle.StartDraining();
        await Parallel.ForEachAsync(_workers, Parallelism(cancellationToken), Beat);
        await runner.StopAll();
        await base.StopAsync(cancellationToken);
        await Parallel.ForEachAsync(_workers, Parallelism(cancellationToken), async (worker, token) =>
        {
            try { await presence.Leave(worker.Id, token); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogWarning("Simulated worker {WorkerId} could not unregister: {Error}", worker.Id, e.Message);
            }
        });
        _logger.LogInformation("{Count} simulated workers unregistered", _workers.Count);
    }

    /// <summary>Worker <paramref name="index"/>: the host's size and languages, its own id, noop only.</summary>
    WorkerOptions Simulated(int index) => new()
    {
        Id = $"{_host.Id}-{index:D4}",
        Cpus = _host.Cpus,
        MemoryMb = _host.MemoryMb,
        Gpus = _host.Gpus,
        MaxConcurrentJobs = _host.MaxConcurrentJobs,
        Services = ["noop"],
        Languages = _host.Languages,
        RegistrationTtl = _host.RegistrationTtl,
    };

    /// <summary>Its queue consumed first, then registered: as a real worker, whose registrar starts after its bus.</summary>
    async ValueTask Join(int index, CancellationToken cancellationToken)
    {
        var worker = _workers[index];
        var handle = endpoints.ConnectReceiveEndpoint(QueueNames.Worker(worker.Id), (_, e) =>
        {
            // RunJob and StopJob are sent to a worker's queue by name, never published: no exchange bindings needed.
            e.ConfigureConsumeTopology = false;
            // The ordinary consumers, each told which worker it serves (the fencing check compares the job's worker).
            e.Instance(new RunJobConsumer(runner, allocations, journal, reports, Options.Create(worker), loggers.CreateLogger<RunJobConsumer>()));
            e.Instance(new StopJobConsumer(runner, reports, loggers.CreateLogger<StopJobConsumer>()));
        });
        await handle.Ready.WaitAsync(cancellationToken);

        var registration = worker.Registration(lifecycle.Status);
        await presence.Join(registration, worker.RegistrationTtl, cancellationToken);
        _joinedAt[index] = clock.GetUtcNow();
        await bus.Publish(new WorkerRegistered(
            registration.WorkerId, registration.Capacity, registration.MaxConcurrentJobs,
            registration.Services, registration.Languages, clock.GetUtcNow()), cancellationToken);
    }

    async ValueTask Beat(WorkerOptions worker, CancellationToken cancellationToken)
    {
        try
        {
            await presence.Beat(worker.Registration(lifecycle.Status), worker.RegistrationTtl, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning("Heartbeat of simulated worker {WorkerId} failed; retrying next beat: {Error}", worker.Id, e.Message);
        }
    }

    static ParallelOptions Parallelism(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = Concurrency, CancellationToken = cancellationToken };
}
