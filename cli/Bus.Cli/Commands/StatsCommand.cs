using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Bus.Cli.Commands;

/// <summary><c>stats</c>: the cluster snapshot: capacity, what is allocated, and jobs by state.</summary>
public static class StatsCommand
{
    public static Command Create()
    {
        var command = new Command("stats", "Show the cluster snapshot: workers, capacity, allocated, utilization, jobs by state.");
        command.Handle(async (parseResult, api, cancellationToken) =>
        {
            parseResult.Show(await api.Get("/api/v1/stats", cancellationToken), Render);
            return ExitCodes.Ok;
        });
        return command;
    }

    static void Render(JsonNode stats)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow(new Text("workers"), CliCommand.Cell(stats["workers"]));
        foreach (var resource in new[] { "cpus", "memoryMb", "gpus" })
            grid.AddRow(new Text(resource), new Text($"{stats["allocated"]?[resource]} of {stats["capacity"]?[resource]} allocated"));
        grid.AddRow(new Text("utilization"), new Text($"{(double?)stats["utilization"] * 100:0.#} %"));
        foreach (var (state, count) in stats["jobsByState"]?.AsObject() ?? [])
            grid.AddRow(new Text(state), CliCommand.Cell(count));
        grid.AddRow(new Text("completed last minute"), CliCommand.Cell(stats["completedLastMinute"]));
        grid.AddRow(new Text("as of"), CliCommand.Cell(stats["generatedAt"]));
        AnsiConsole.Write(grid);
    }
}
