using System.CommandLine;
using Spectre.Console;

namespace Bus.Cli.Commands;

/// <summary><c>cancel JOB...</c>, like scancel: a pending job ends at once, a running one is killed first.</summary>
public static class CancelCommand
{
    public static Command Create()
    {
        var jobIds = new Argument<Guid[]>("job-id") { Description = "The ids of the jobs to cancel.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("cancel", "Cancel jobs: a pending job ends at once, a running one is killed first.") { jobIds };
        command.Handle(async (parseResult, api, cancellationToken) =>
        {
            foreach (var jobId in parseResult.GetValue(jobIds)!)
            {
                var answer = await api.Post($"/api/v1/jobs/{jobId}/cancel", null, cancellationToken);
                parseResult.Show(answer, _ => AnsiConsole.Write(new Text($"{jobId} cancel requested (was {answer["state"]})\n")));
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
