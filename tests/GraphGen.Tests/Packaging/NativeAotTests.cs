using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Tests.Nets;
using GraphGen.Training;
using Xunit;
using Xunit.Abstractions;

namespace GraphGen.Tests.Packaging;

/// <summary>samples/Infer publishes as a NativeAOT executable (AVX2 level compiled in) that loads a
/// checkpoint and evaluates the test set with the same accuracy as the JIT-compiled network.</summary>
public class NativeAotTests(ITestOutputHelper output)
{
    [Fact]
    public void InferenceSamplePublishesWithNativeAotAndMatchesTheJit()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.OSArchitecture != Architecture.X64 || !FashionMnist.IsInstalled())
        {
            output.WriteLine("needs linux-x64 and the FashionMNIST test set; skipped");
            return;
        }
        string root = PackageTests.RepositoryRoot();
        string work = Path.Combine(Path.GetTempPath(), $"graphgen-aot-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(work);
            string checkpoint = Path.Combine(work, "lenet.safetensors");
            using var net = new LeNet(new NetworkOptions { Seed = 5, Simd = SimdPath.Vector256 });
            var rng = new Random(1);
            var pixels = new byte[256 * 784]; rng.NextBytes(pixels);
            var labels = new int[256];
            for (int i = 0; i < labels.Length; i++) labels[i] = rng.Next(10);
            for (int i = 0; i < 5; i++) net.TrainStep(pixels, labels, 0.1f); // non-trivial moving statistics
            Checkpoint.Save(net, checkpoint);
            double jitAccuracy = Trainer.Evaluate(net, FashionMnist.LoadTest());

            string publish = Path.Combine(work, "publish");
            string log = Run("dotnet", $"publish \"{Path.Combine(root, "samples", "Infer", "Infer.csproj")}\" -c Release -r linux-x64 -o \"{publish}\"", root);
            string binary = Path.Combine(publish, "lenet-infer");
            Assert.True(File.Exists(binary), log);
            output.WriteLine($"native binary: {new FileInfo(binary).Length:N0} bytes");

            string result = Run(binary, $"\"{checkpoint}\"", work);
            output.WriteLine(result);
            var match = Regex.Match(result, @"test accuracy (\d\.\d+)");
            Assert.True(match.Success, result);
            Assert.Equal(jitAccuracy, double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), 4);
            Assert.Contains("Vector256", result); // x86-64-v3 compiled in: the AVX2 path, not scalar
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    private string Run(string file, string arguments, string directory)
    {
        var start = new ProcessStartInfo(file, arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(600_000), $"{file} {arguments} did not finish in 10 minutes");
        string text = stdout.Result + stderr.Result;
        Assert.True(process.ExitCode == 0, $"{file} {arguments} failed with exit code {process.ExitCode}:\n{text}");
        return text;
    }
}
