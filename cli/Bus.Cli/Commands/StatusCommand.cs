using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Bus.Cli.Commands;

/// <summary><c>status JOB</c>: one job, as <c>GET /api/v1/jobs/{id}</c> answers, field by field.</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var jobId = JobArgument.Create();
        var command = new Command("status", "Show one job: state, worker, attempts, pending reason, exit code.") { jobId };
        command.Handle(async (parseResult, api, cancellationToken) =>
        {
            var job = await api.Get($"/api/v1/jobs/{parseResult.GetValue(jobId)}", cancellationToken);
            parseResult.Show(job, Render);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Every scalar field as a row; the output tail is left to <c>output</c>, where it is printed raw.</summary>
    static void Render(JsonNode job)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        foreach (var (name, value) in job.AsObject())
            if (name != "output" && value is not null)
                grid.AddRow(new Text(name), CliCommand.Cell(value));
        AnsiConsole.Write(grid);
    }
}
