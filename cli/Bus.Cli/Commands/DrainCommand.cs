using System.CommandLine;
using Spectre.Console;

namespace Bus.Cli.Commands;

/// <summary><c>drain WORKER</c> (admin): the worker takes no new jobs and unregisters once its running jobs end.</summary>
public static class DrainCommand
{
    public static Command Create()
    {
        var workerId = new Argument<string>("worker-id") { Description = "The worker to drain, as `workers` lists it." };
        var command = new Command("drain", "Drain a worker (admin key): it finishes what runs, takes nothing new, then unregisters.") { workerId };
        command.Handle(async (parseResult, api, cancellationToken) =>
        {
            var worker = parseResult.GetValue(workerId)!;
            var answer = await api.Post($"/api/v1/workers/{Uri.EscapeDataString(worker)}/drain", null, cancellationToken);
            parseResult.Show(answer, _ => AnsiConsole.Write(new Text($"{worker} is draining\n")));
            return ExitCodes.Ok;
        });
        return command;
    }
}
