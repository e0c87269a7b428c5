using System.Globalization;

namespace Bus.Bench;

/// <summary>
/// The benchmarks' arguments: plain <c>--name value</c> pairs. System.CommandLine is not in the repo's central package
/// list, and a handful of numbers do not need a parser library.
/// </summary>
public static class BenchArguments
{
    /// <summary>
    /// Applies the pairs to <paramref name="options"/> in order. <paramref name="apply"/> returns null for a name or value
    /// it does not know; that, or a name without a value, throws with <paramref name="usage"/>.
    /// </summary>
    public static T Parse<T>(string[] args, T options, string usage, Func<T, string, string, T?> apply) where T : class
    {
        for (var i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
                throw new ArgumentException($"{args[i]} needs a value\n{usage}");
            options = apply(options, args[i], args[i + 1])
                ?? throw new ArgumentException($"unknown option or value: {args[i]} {args[i + 1]}\n{usage}");
        }
        return options;
    }

    public static int Positive(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name} needs a positive whole number, not '{value}'");

    /// <summary>A comma-separated list of whole numbers, none negative, e.g. <c>0,10000,100000</c>.</summary>
    public static int[] Counts(string name, string value) =>
        value.Split(',').Select(v => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0
            ? n
            : throw new ArgumentException($"{name} needs whole numbers separated by commas, not '{value}'")).ToArray();
}
