namespace Bus.Cli;

/// <summary>A failure to tell the user in one line, ending the command with <see cref="ExitCodes.ApiError"/>.</summary>
public sealed class CliException(string message) : Exception(message);
