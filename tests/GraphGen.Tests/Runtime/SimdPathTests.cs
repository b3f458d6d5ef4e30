using System;
using System.Diagnostics;
using System.IO;
using Xunit;

namespace GraphGen.Tests.Runtime;

/// <summary>
/// Runs `lenet check` in a child process with the JIT's instruction sets switched off by environment
/// variables, so every path the automatic selection can take is compiled by the JIT for that
/// hardware level (no FMA, no VEX without AVX2, …) and verified against the scalar path. The forced
/// paths are covered in-process by GeneratedVsReferenceTests.
/// </summary>
public class SimdPathTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData("DOTNET_EnableAVX512", "Vector256")]
    [InlineData("DOTNET_EnableAVX2", "Vector128")]
    [InlineData("DOTNET_EnableHWIntrinsic", "Scalar")]
    public void AutomaticPathIsSelectedAndMatchesScalar(string? switchOff, string? expectedPath)
    {
        string lenet = Path.Combine(AppContext.BaseDirectory, "lenet.dll");
        var start = new ProcessStartInfo("dotnet", $"\"{lenet}\" check") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (switchOff is not null) start.Environment[switchOff] = "0";
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "lenet check did not finish in 2 minutes");
        Assert.True(process.ExitCode == 0, output);
        string path = expectedPath ?? GraphGen.Execution.NetworkCore.Resolve(SimdPath.Auto).ToString();
        Assert.Contains($"SIMD path: {path} ", output);
        Assert.Contains("(ok)", output);
    }
}
