using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Bus.Cli.Commands;

/// <summary><c>workers</c>, like sinfo: each live worker's capacity and what is used of it, its pools and status.</summary>
public static class WorkersCommand
{
    public static Command Create()
    {
        var command = new Command("workers", "List the live workers: capacity, used, services, pools, status.");
        command.Handle(async (parseResult, api, cancellationToken) =>
        {
            parseResult.Show(await api.Get("/api/v1/workers", cancellationToken), Render);
            return ExitCodes.Ok;
        });
        return command;
    }

    static void Render(JsonNode workers)
    {
        var table = CliCommand.NewTable("WORKER", "STATUS", "CPUS", "MEMORY_MB", "GPUS", "JOBS", "SERVICES", "LANGUAGES", "POOLS", "HEARTBEAT");
        foreach (var worker in workers.AsArray())
            table.AddRow(
                CliCommand.Cell(worker?["workerId"]), CliCommand.Cell(worker?["status"]),
                Used(worker, "cpus"), Used(worker, "memoryMb"), Used(worker, "gpus"),
                new Text($"{worker?["runningJobs"]}/{worker?["maxConcurrentJobs"]}"),
                CliCommand.Cell(worker?["services"]), CliCommand.Cell(worker?["languages"]), CliCommand.Cell(worker?["pools"]),
                CliCommand.Age(worker?["lastHeartbeat"]));
        AnsiConsole.Write(table);
    }

    /// <summary>"used/capacity" of one resource.</summary>
    static Text Used(JsonNode? worker, string resource) => new($"{worker?["used"]?[resource]}/{worker?["capacity"]?[resource]}");
}
