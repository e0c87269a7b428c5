using MassTransit;
using JobStateMachine = Bus.Scheduler.StateMachines.JobStateMachine;

namespace Bus.Scheduler.StateMachines;

/// <summary>
/// Connects every registered <see cref="IStateObserver{JobState}"/> (the transition recorder, the lifecycle metrics) to
/// the state machine while the scheduler runs. The machine itself stays about jobs; what watches it is registered
/// beside it.
/// </summary>
public sealed class StateObserverConnector(JobStateMachine machine, IEnumerable<IStateObserver<JobState>> observers) : IHostedService
{
    readonly List<IDisposable> _connections = [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var observer in observers)
            _connections.Add(machine.ConnectStateObserver(observer));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _connections.ForEach(c => c.Dispose());
        _connections.Clear();
        return Task.CompletedTask;
    }
}
