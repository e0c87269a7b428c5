using Bus.Contracts;
using Bus.Infrastructure.Redis;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bus.Worker.Registration;

/// <summary>
/// Keeps this worker registered (R1): registers at start, refreshes by heartbeat with jitter so a fleet does
/// not beat in step, and unregisters on a clean stop (R16). If Redis is briefly away, the next beat
/// re-registers in full.
/// </summary>
public sealed class WorkerRegistrar(
    WorkerRegistry registry,
    IBus bus,
    NpgsqlDataSource dataSource,
    IOptions<WorkerOptions> options,
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
        WorkerStatus.Ready);

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
                await Task.Delay(_options.HeartbeatInterval * jitter, clock, stoppingToken);
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

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
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
