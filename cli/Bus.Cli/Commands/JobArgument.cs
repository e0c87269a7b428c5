using System.CommandLine;

namespace Bus.Cli.Commands;

/// <summary>The job id argument that status, cancel and output take.</summary>
public static class JobArgument
{
    public static Argument<Guid> Create() => new("job-id") { Description = "The job's id, as submit printed it." };
}
