using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.Intrinsics;
using GraphGen.Tests.Packaging;
using Xunit;

namespace GraphGen.Tests.Benchmarks;

/// <summary>
/// The benchmark project's `suite` subcommand, run as the user runs it (a child process of the built
/// tests/GraphGen.Benchmarks, which this test builds if needed) with one step per measurement: it
/// finishes and prints a well-formed Markdown table whose columns agree with each other. Speed itself
/// is never asserted.
/// </summary>
public class SuiteTests
{
    private static readonly string[] Networks = ["mlp", "lenet", "vgg", "resnet", "depthwise"];

    [Fact]
    public void OneStepPerMeasurementPrintsAWellFormedTable()
    {
        var (code, output) = RunSuite("--steps 1 --warmup 0 --peak-iterations 1000000");
        Assert.True(code == 0, output);
        string[] table = output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith('|')).ToArray();
        string[][] rows = table.Select(l => l.Trim('|').Split('|').Select(c => c.Trim()).ToArray()).ToArray();

        string[] isas = Vector512.IsHardwareAccelerated ? ["AVX-512", "AVX2"] : ["AVX2"];
        string[] header = ["network", "pass", "threads", "MFLOP/image", .. isas.SelectMany(i => new[] { $"{i} images/s", $"{i} GFLOP/s", $"{i} % of ceiling" })];
        Assert.Equal(header, rows[0]);
        Assert.All(rows[1], c => Assert.Matches("^-+:?$", c));
        Assert.All(rows, r => Assert.Equal(header.Length, r.Length));

        var body = rows.Skip(2).ToArray();
        var expected = Networks.SelectMany(n => new[] { "training step", "inference" }.SelectMany(p => new[] { "1", "2" }.Select(t => (n, p, t)))).ToList();
        Assert.Equal(expected.Count + 2, body.Length);
        Assert.Equal(expected, body.Take(expected.Count).Select(r => (r[0], r[1], r[2])));
        Assert.Equal(["FMA ceiling (`peak`)", "FMA ceiling (`peak`)"], body.Skip(expected.Count).Select(r => r[0]));

        // The operation counts are FlopCount's (LeNet: see FlopCountTests).
        Assert.Equal("1.517", body.First(r => r[0] == "lenet" && r[1] == "training step")[3]);
        Assert.Equal("0.563", body.First(r => r[0] == "lenet" && r[1] == "inference")[3]);

        for (int k = 0; k < isas.Length; k++)
        {
            int col = 4 + 3 * k;
            var ceiling = body.Skip(expected.Count).ToDictionary(r => r[2], r => Number(r[col + 1]));
            foreach (string[] r in body.Take(expected.Count))
            {
                double images = Number(r[col]), gflops = Number(r[col + 1]), percent = Number(r[col + 2]), mflop = Number(r[3]);
                Assert.True(images > 0, string.Join(" | ", r));
                // GFLOP/s = images/s × MFLOP/image / 1000, and the share = GFLOP/s / ceiling, up to the
                // rounding of the printed figures (images/s to 1, MFLOP to 0.001, GFLOP/s to 0.1, % to 1).
                double g = (images - 0.5) * (mflop - 0.0005) / 1000, G = (images + 0.5) * (mflop + 0.0005) / 1000;
                Assert.InRange(gflops, g - 0.05, G + 0.05);
                double c = ceiling[r[2]];
                double low = 100 * (gflops - 0.05) / (c + 0.05) - 0.5, high = c > 0.05 ? 100 * (gflops + 0.05) / (c - 0.05) + 0.5 : double.PositiveInfinity;
                Assert.InRange(percent, low, high);
            }
        }
    }

    [Fact]
    public void AnUnknownNetworkIsNamedAndNothingRuns()
    {
        var (code, output) = RunSuite("--networks lenet,alexnet");
        Assert.Equal(2, code);
        Assert.Contains("no network 'alexnet' in the suite (it has mlp, lenet, vgg, resnet, depthwise)", output);
        Assert.DoesNotContain("| network |", output);
    }

    private static double Number(string cell) => double.Parse(cell, NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    private static (int Code, string Output) RunSuite(string arguments)
    {
        string root = PackageTests.RepositoryRoot();
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
        string project = Path.Combine(root, "tests", "GraphGen.Benchmarks");
        // The solution builds it; a test run of this project alone may not have. The runtime and the
        // generator it references are built already (this project references them too).
        var (built, log) = Run("dotnet", $"build \"{project}\" -c {configuration} --no-dependencies -nologo -v q", root);
        Assert.True(built == 0, "building tests/GraphGen.Benchmarks failed:\n" + log);
        string dll = Path.Combine(project, "bin", configuration, "net10.0", "GraphGen.Benchmarks.dll");
        return Run("dotnet", $"\"{dll}\" suite {arguments}", root);
    }

    private static (int Code, string Output) Run(string file, string arguments, string directory)
    {
        var start = new ProcessStartInfo(file, arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(900_000), $"{file} {arguments} did not finish in 15 minutes");
        return (process.ExitCode, output + error.Result);
    }
}
