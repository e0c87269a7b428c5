using Bus.Contracts;
using Bus.Infrastructure.Redis;
using Bus.Worker.Execution;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bus.Worker.Registration;

/// <summary>
/// Keeps this worker registered (R1): registers at start, refreshes by heartbeat with jitter so a fleet does
/// not beat in step, and unregisters on a clean stop (R16). If Redis is briefly away, the next beat
/// re-registers in full. A draining worker is registered as such at once, and unregisters once idle.
/// </summary>
public sealed class WorkerRegistrar(
    WorkerRegistry registry,
    IBus bus,
    NpgsqlDataSource dataSource,
    IOptions<WorkerOptions> options,
    WorkerLifecycle lifecycle,
    JobRunner runner,
    TimeProvider clock,
    ILogger<WorkerRegistrar> logger) : BackgroundService
{
    readonly WorkerOptions _options = options.Value;

    WorkerRegistration Registration => new(
        _options.Id,
        new ResourceVector(_options.Cpus, _options.MemoryMb, _options.Gpus),
        _options.SlotLimit,
        _options.Services,
        _options.Languages,
        lifecycle.Status);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var registration = Registration;
        await registry.Register(registration, _options.RegistrationTtl);
        await RecordHistory(registration, cancellationToken);
        await bus.Publish(new WorkerRegistered(
            registration.WorkerId, registration.Capacity, registration.MaxConcurrentJobs,
            registration.Services, registration.Languages, clock.GetUtcNow()), cancellationToken);
        logger.LogInformation("Worker {WorkerId} registered: {Cpus} cpus, {Slots} slots, services {Services}",
            registration.WorkerId, registration.Capacity.Cpus, registration.MaxConcurrentJobs, string.Join(",", registration.Services));
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var jitter = 1 + (Random.Shared.NextDouble() - 0.5) / 5;
            try
            {
                // While draining, look often: the worker unregisters as soon as its last job has ended.
                var wait = lifecycle.IsDraining ? TimeSpan.FromMilliseconds(500) : _options.HeartbeatInterval * jitter;
                await Task.WhenAny(Task.Delay(wait, clock, stoppingToken), lifecycle.DrainingStarted.WaitAsync(stoppingToken));
                stoppingToken.ThrowIfCancellationRequested();
                if (lifecycle.IsDraining && runner.RunningCount == 0)
                {
                    await registry.Unregister(_options.Id);
                    logger.LogInformation("Worker {WorkerId} drained and unregistered; it takes no more jobs", _options.Id);
                    return;
                }
                await registry.Register(Registration, _options.RegistrationTtl);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Heartbeat of worker {WorkerId} failed; retrying next beat", _options.Id);
            }
        }
    }

    /// <summary>
    /// SIGTERM or SIGINT (R16): register as draining at once, so no new job is placed here; let running jobs end
    /// within the grace period and hand the rest back, while heartbeats go on (a silent worker would be declared
    /// lost and its jobs run twice); then unregister.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        lifecycle.StartDraining();
        await registry.Register(Registration, _options.RegistrationTtl);
        await runner.StopAll();
        await base.StopAsync(cancellationToken);
        await registry.Unregister(_options.Id);
        logger.LogInformation("Worker {WorkerId} unregistered", _options.Id);
    }

    async Task RecordHistory(WorkerRegistration worker, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO workers (worker_id, cpus, memory_mb, gpus, max_jobs, services, languages, first_registered_at, last_registered_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, now(), now())
            ON CONFLICT (worker_id) DO UPDATE SET cpus = $2, memory_mb = $3, gpus = $4, max_jobs = $5,
                services = $6, languages = $7, last_registered_at = now()
            """);
        command.Parameters.AddWithValue(worker.WorkerId);
        command.Parameters.AddWithValue(worker.Capacity.Cpus);
        command.Parameters.AddWithValue(worker.Capacity.MemoryMb);
        command.Parameters.AddWithValue(worker.Capacity.Gpus);
        command.Parameters.AddWithValue(worker.MaxConcurrentJobs);
        command.Parameters.AddWithValue(worker.Services);
        command.Parameters.AddWithValue(worker.Languages);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
