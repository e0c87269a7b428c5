using Bus.Capacity.Workers;
using Bus.Contracts;
using Bus.Hosting.Resilience;
using Bus.Worker.Execution;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Bus.Worker.Registration;

/// <summary>
/// Keeps this worker registered: registers at start, refreshes by heartbeat with jitter so a fleet does
/// not beat in step, and unregisters on a clean stop. Each beat goes to Redis and to PostgreSQL
/// (<see cref="WorkerPresence"/>), so the worker stays placeable while either is away; if Redis is briefly away,
/// the next beat re-registers in full. A draining worker is registered as such at once, and unregisters once idle.
/// </summary>
public sealed class WorkerRegistrar(
    WorkerPresence presence,
    IBus bus,
    IOptions<WorkerOptions> options,
    WorkerLifecycle lifecycle,
    JobRunner runner,
    TimeProvider clock,
    ILogger<WorkerRegistrar> logger) : BackgroundService
{
    readonly WorkerOptions _options = options.Value;

    // How often a draining worker looks whether its last job has ended, between its heartbeats.
    static readonly TimeSpan DrainLook = TimeSpan.FromMilliseconds(500);

    WorkerRegistration Registration => _options.Registration(lifecycle.Status);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var registration = Registration;
        await UntilReachable.Run("Registering the worker",
            token => presence.Join(registration, _options.RegistrationTtl, token), logger, clock, cancellationToken);
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
                // Wakes early once, when draining starts, so the new status is published at once. Once draining, the
                // drain task has completed and must not be waited on again: every wait would end at once and the
                // worker would beat back to back. Draining only adds looks for idleness between beats.
                var beatAt = clock.GetUtcNow() + _options.HeartbeatInterval * jitter;
                var wasDraining = lifecycle.IsDraining;
                if (!wasDraining)
                    await Task.WhenAny(Task.Delay(beatAt - clock.GetUtcNow(), clock, stoppingToken), lifecycle.DrainingStarted.WaitAsync(stoppingToken));
                while (lifecycle.IsDraining && wasDraining && clock.GetUtcNow() < beatAt && runner.RunningCount > 0)
                    await Task.Delay(DrainLook, clock, stoppingToken);
                stoppingToken.ThrowIfCancellationRequested();
                if (lifecycle.IsDraining && runner.RunningCount == 0)
                {
                    await presence.Leave(_options.Id, stoppingToken);
                    logger.LogInformation("Worker {WorkerId} drained and unregistered; it takes no more jobs", _options.Id);
                    return;
                }
                await presence.Beat(Registration, _options.RegistrationTtl, stoppingToken, runner.RunningAttempts);
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
    /// SIGTERM or SIGINT: register as draining at once, so no new job is placed here; let running jobs end
    /// within the grace period and hand the rest back, while heartbeats go on (a silent worker would be declared
    /// lost and its jobs run twice); then unregister.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        lifecycle.StartDraining();
        try
        {
            await presence.Beat(Registration, _options.RegistrationTtl, cancellationToken, runner.RunningAttempts);
        }
        catch (Exception e)
        {
            // Neither store answers: the jobs are still handed back below; placement sees the drain at the next beat.
            logger.LogWarning(e, "Registering worker {WorkerId} as draining failed", _options.Id);
        }
        await runner.StopAll();
        await base.StopAsync(cancellationToken);
        await presence.Leave(_options.Id, cancellationToken);
        logger.LogInformation("Worker {WorkerId} unregistered", _options.Id);
    }
}
