using System.Collections.Concurrent;
using Bus.Contracts;
using MassTransit;

namespace Bus.SystemTests.Support;

/// <summary>
/// A client of the bus itself, as a .NET program that references the contracts would be: it sends SubmitJob to the
/// scheduler's submissions queue and hears every JobFinished on a temporary queue of its own.
/// </summary>
public sealed class BusClient : IAsyncDisposable
{
    readonly IBusControl _bus;
    readonly ConcurrentDictionary<Guid, TaskCompletionSource<JobFinished>> _finished = new();

    BusClient(IBusControl bus) => _bus = bus;

    public static async Task<BusClient> Connect(RunningSystem system)
    {
        BusClient client = null!;
        var bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(TestEnvironment.RabbitHost, (ushort)TestEnvironment.RabbitPort, system.VirtualHost, h =>
            {
                h.Username(TestEnvironment.RabbitUser);
                h.Password(TestEnvironment.RabbitPassword);
            });
            cfg.ReceiveEndpoint(new TemporaryEndpointDefinition(), e => e.Handler<JobFinished>(context =>
            {
                client.Finished(context.Message.JobId).TrySetResult(context.Message);
                return Task.CompletedTask;
            }));
        });
        client = new BusClient(bus);
        await bus.StartAsync();
        return client;
    }

    /// <summary>Sends <paramref name="command"/> and returns the scheduler's answer: accepted or rejected.</summary>
    public async Task<(SubmitJobAccepted? Accepted, SubmitJobRejected? Rejected)> Submit(SubmitJob command)
    {
        var client = _bus.CreateRequestClient<SubmitJob>(new Uri("queue:job-submissions"), RequestTimeout.After(s: 30));
        var response = await client.GetResponse<SubmitJobAccepted, SubmitJobRejected>(command);
        if (response.Is(out Response<SubmitJobAccepted>? accepted))
            return (accepted!.Message, null);
        return response.Is(out Response<SubmitJobRejected>? rejected)
            ? (null, rejected!.Message)
            : throw new InvalidOperationException("the scheduler answered neither accepted nor rejected");
    }

    /// <summary>The JobFinished of <paramref name="jobId"/>, whether it came already or comes later.</summary>
    public TaskCompletionSource<JobFinished> Finished(Guid jobId) =>
        _finished.GetOrAdd(jobId, _ => new TaskCompletionSource<JobFinished>(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>A SubmitJob as a client would send it: the job id left empty for the scheduler to derive.</summary>
    public static SubmitJob Command(string tenant, string requestId, string[] command, int cpus = 1) => new(
        Guid.Empty, tenant, requestId, "shell", command, null, new ResourceVector(cpus, 0, 0),
        new PlacementConstraints(null, null, null, null), 50, 3600, 3, DateTimeOffset.UtcNow);

    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}
