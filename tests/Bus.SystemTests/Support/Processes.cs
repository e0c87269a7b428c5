namespace Bus.SystemTests.Support;

/// <summary>What the tests ask of a process they did not start themselves (a job's, by its pid).</summary>
public static class Processes
{
    /// <summary>Alive, and not a zombie waiting to be reaped (which is dead already).</summary>
    public static bool Alive(int pid)
    {
        try
        {
            return !File.ReadAllLines($"/proc/{pid}/status").Any(l => l.StartsWith("State:", StringComparison.Ordinal) && l.Contains('Z'));
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException or IOException)
        {
            return false;
        }
    }
}
