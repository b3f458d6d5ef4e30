using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using GraphGen.Checkpoints;

/// <summary>
/// Loaded into the lenet child processes of the fault-injection tests through DOTNET_STARTUP_HOOKS (never into a
/// normal run): $GRAPHGEN_TEST_FAILPOINT "log:FILE" appends one line "N step target" per file-system call of every
/// atomic write; "kill:N" sends SIGKILL to the process just before the N-th such call.
/// </summary>
internal static class StartupHook
{
    public const string Variable = "GRAPHGEN_TEST_FAILPOINT";

    public static void Initialize()
    {
        string? spec = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(spec)) return;
        int calls = 0;
        if (spec.StartsWith("log:", StringComparison.Ordinal))
        {
            string log = spec["log:".Length..];
            AtomicFile.Failpoint = (step, target) =>
                File.AppendAllText(log, string.Create(CultureInfo.InvariantCulture, $"{Interlocked.Increment(ref calls)} {step} {target}\n"));
        }
        else if (spec.StartsWith("kill:", StringComparison.Ordinal))
        {
            int at = int.Parse(spec["kill:".Length..], CultureInfo.InvariantCulture);
            AtomicFile.Failpoint = (_, _) =>
            {
                if (Interlocked.Increment(ref calls) == at) Process.GetCurrentProcess().Kill(); // SIGKILL, as kill -9
            };
        }
        else
        {
            throw new ArgumentException($"{Variable} is '{spec}', not log:FILE or kill:N");
        }
    }
}
