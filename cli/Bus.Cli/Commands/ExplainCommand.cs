using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Bus.Cli.Commands;

/// <summary>
/// <c>explain [submit's options] -- argv...</c>: where the job would be placed right now, or why it would wait, and
/// what placement made of every live worker. Nothing is submitted; run <c>submit</c> with the same flags to do it.
/// </summary>
public static class ExplainCommand
{
    public static Command Create()
    {
        var submission = new SubmissionOptions();
        var command = new Command("explain", "Where a job would run now, or why not; takes the same flags as submit and submits nothing.");
        submission.AddTo(command);
        command.Handle(async (parseResult, api, cancellationToken) =>
        {
            var answer = await api.Post("/api/v1/jobs:explain", submission.Body(parseResult), cancellationToken);
            parseResult.Show(answer, Render);
            return ExitCodes.Ok;
        });
        return command;
    }

    static void Render(JsonNode answer)
    {
        AnsiConsole.Write(new Text((string?)answer["workerId"] is { } worker
            ? $"Would run on {worker}" + ((bool?)answer["firstChoiceIsRandom"] == true ? " (most likely; balancing picks between two at random)\n" : "\n")
            : $"Would wait: {answer["pendingReasonCode"]}: {answer["pendingReason"]}\n"));
        AnsiConsole.Write(new Text($"Pools in order: {string.Join(", ", answer["pools"]?.AsArray().Select(p => (string?)p) ?? [])}\n"));
        var table = CliCommand.NewTable("WORKER", "VERDICT", "RANK", "POOL", "LOAD", "FREE CPUS", "SLOTS", "DETAIL");
        foreach (var w in answer["workers"]?.AsArray() ?? [])
            table.AddRow(
                CliCommand.Cell(w?["workerId"]), CliCommand.Cell(w?["verdict"]), CliCommand.Cell(w?["rank"]), CliCommand.Cell(w?["pool"]),
                CliCommand.Cell(w?["load"]), CliCommand.Cell(w?["free"]?["cpus"]),
                new Text($"{w?["runningJobs"]}/{w?["maxConcurrentJobs"]}"), CliCommand.Cell(w?["detail"]));
        AnsiConsole.Write(table);
    }
}
