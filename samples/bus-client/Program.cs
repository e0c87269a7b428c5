// Submits one job over the bus and waits for its result:
//   dotnet run --project samples/bus-client -- [--tenant dev] [--request-id ID] [--cpus N] -- /bin/echo hello
// RabbitMQ's address and credentials come from the same variables the services read (RabbitMq__Host, RabbitMq__Port,
// RabbitMq__VirtualHost, RabbitMq__Username, RabbitMq__Password; `source .state/env` sets them after ./bus up).
// Exits with the job's exit code; 2 for a refused submission or a bad command line, 3 when no result came in time.
using Bus.Contracts;
using Bus.Samples.BusClient;
using MassTransit;

if (!ClientArguments.TryParse(args, out var arguments, out var usage))
{
    Console.Error.WriteLine(usage);
    return 2;
}

var finished = new TaskCompletionSource<JobFinished>(TaskCreationOptions.RunContinuationsAsynchronously);
Guid? jobId = null;
var early = new List<JobFinished>();
var bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(cfg =>
{
    cfg.Host(Setting("RabbitMq__Host", "127.0.0.1"), ushort.Parse(Setting("RabbitMq__Port", "5672")), Setting("RabbitMq__VirtualHost", "/"), h =>
    {
        h.Username(Setting("RabbitMq__Username", "guest"));
        h.Password(Setting("RabbitMq__Password", "guest"));
    });
    // A queue of this client's own, bound before submitting, so the result cannot come before anyone listens.
    cfg.ReceiveEndpoint(new TemporaryEndpointDefinition(), e => e.Handler<JobFinished>(context =>
    {
        lock (early)
            if (jobId == context.Message.JobId)
                finished.TrySetResult(context.Message);
            else if (jobId is null)
                early.Add(context.Message);
        return Task.CompletedTask;
    }));
});

await bus.StartAsync();
try
{
    var client = bus.CreateRequestClient<SubmitJob>(new Uri("queue:job-submissions"), RequestTimeout.After(s: 30));
    var response = await client.GetResponse<SubmitJobAccepted, SubmitJobRejected>(new SubmitJob(
        Guid.Empty, arguments.Tenant, arguments.RequestId, "shell", arguments.Command, null,
        new ResourceVector(arguments.Cpus, 0, 0), new PlacementConstraints(null, null, null, null),
        Priority: 50, TimeoutSeconds: 3600, MaxAttempts: 3, DateTimeOffset.UtcNow));
    if (response.Is(out Response<SubmitJobRejected>? rejected))
    {
        Console.Error.WriteLine($"refused: {rejected!.Message.Reason}");
        return 2;
    }
    response.Is(out Response<SubmitJobAccepted>? accepted);
    Console.Error.WriteLine($"job {accepted!.Message.JobId} {(accepted.Message.Created ? "submitted" : "already submitted")}; waiting");
    lock (early)
    {
        jobId = accepted.Message.JobId;
        if (early.FirstOrDefault(f => f.JobId == jobId) is { } already)
            finished.TrySetResult(already);
    }

    var result = await finished.Task.WaitAsync(arguments.Wait);
    Console.Write(result.Output);
    Console.Error.WriteLine($"job {result.JobId} {result.State} after {result.Attempt} attempt(s)" +
        (result.Error is null ? "" : $": {result.Error}"));
    return result.State == JobStates.Completed ? result.ExitCode ?? 0 : result.ExitCode ?? 1;
}
catch (TimeoutException)
{
    Console.Error.WriteLine($"no result within {arguments.Wait.TotalSeconds} s");
    return 3;
}
finally
{
    await bus.StopAsync();
}

static string Setting(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
