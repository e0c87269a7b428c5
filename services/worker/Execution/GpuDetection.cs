using System.Diagnostics;

namespace Bus.Worker.Execution;

/// <summary>Finds the GPUs of this machine with <c>nvidia-smi</c>, where it is installed.</summary>
public static class GpuDetection
{
    /// <summary>The device indexes nvidia-smi lists, or none when it is missing or fails.</summary>
    public static string[] Detect()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(dir => Path.Combine(dir, "nvidia-smi")).FirstOrDefault(File.Exists);
        if (path is null)
            return [];
        try
        {
            using var process = Process.Start(new ProcessStartInfo(path, ["--query-gpu=index", "--format=csv,noheader"])
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0
                ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : [];
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return [];
        }
    }
}
