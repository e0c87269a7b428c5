using System.CommandLine;
using Bus.Cli.Commands;
using Spectre.Console;

// Piped output has no terminal width; a wide virtual one keeps table rows whole for grep and awk.
if (Console.IsOutputRedirected)
    AnsiConsole.Profile.Width = 240;

var root = new RootCommand("The Bus job scheduler from a terminal. Reads BUS_URL and BUS_API_KEY, or ~/.config/bus/cli.json.")
{
    SubmitCommand.Create(),
    ExplainCommand.Create(),
    StatusCommand.Create(),
    ListCommand.Create(),
    CancelCommand.Create(),
    OutputCommand.Create(),
    WorkersCommand.Create(),
    DrainCommand.Create(),
    StatsCommand.Create(),
    WatchCommand.Create(),
};
root.Options.Add(CliCommand.JsonOutput);
return await root.Parse(args).InvokeAsync();
