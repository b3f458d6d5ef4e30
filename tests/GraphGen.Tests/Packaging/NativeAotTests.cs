using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text.RegularExpressions;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Tests.Nets;
using GraphGen.Training;
using Xunit;
using Xunit.Abstractions;

namespace GraphGen.Tests.Packaging;

/// <summary>samples/Infer publishes as a NativeAOT executable (AVX2 level compiled in) that loads a
/// checkpoint and evaluates the test set with the same accuracy as the JIT-compiled network; a user's
/// PublishAot project gets the package's instruction set (GraphGenInstructionSet), not NativeAOT's SSE2.</summary>
[Collection(PackagingCollection.Name)]
public class NativeAotTests(PackedPackage package, ITestOutputHelper output)
{
    /// <summary>The package's buildTransitive targets set IlcInstructionSet for a PublishAot project on
    /// x64: x86-64-v3 by default (AVX2, the Vector256 path, where NativeAOT alone would compile SSE2 and
    /// run Vector128), or GraphGenInstructionSet, in the spelling of the framework's NativeAOT compiler
    /// (.NET 8: x86-x64-v3; .NET 10: x86-64-v4).</summary>
    [SkippableTheory]
    [InlineData("net8.0", "", "x86-x64-v3", "Vector256")]
    [InlineData("net10.0", "x86-64-v4", "x86-64-v4", "Vector512")]
    public void ConsumerPublishedWithNativeAotRunsTheChosenInstructionSet(string framework, string property, string instructionSet, string path)
    {
        Skip.IfNot(OperatingSystem.IsLinux() && RuntimeInformation.OSArchitecture == Architecture.X64, "publishes for linux-x64");
        string name = $"aot-{framework}";
        string app = package.CreateConsumer(name, $"""
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>{framework}</TargetFramework>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <InvariantGlobalization>true</InvariantGlobalization>
                <PublishAot>true</PublishAot>
                <CppCompilerAndLinker Condition="!Exists('/usr/bin/clang') and Exists('/usr/bin/clang-14')">clang-14</CppCompilerAndLinker>
              </PropertyGroup>
            """, """
            using System;
            using GraphGen;

            var x = new float[] { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0 };
            var labels = new[] { 0, 1, 2 };
            using var net = new Blobs(new NetworkOptions { Seed = 1, MaxBatch = 3, Threads = 1 });
            double first = net.TrainStep(x, labels, 0.5f).MeanLoss, last = first;
            for (int step = 0; step < 30; step++) last = net.TrainStep(x, labels, 0.5f).MeanLoss;
            Console.WriteLine($"{net.Simd} loss {first:F4} -> {last:F4}");
            return last < first ? 0 : 1;

            [Network(Features = 4)]
            [Dense(8)] [ReLU]
            [Dense(3)]
            public partial class Blobs { }
            """);
        string publish = Path.Combine(app, "publish");
        string arguments = $"publish -c Release -r linux-x64 -o \"{publish}\"" + (property == "" ? "" : $" -p:GraphGenInstructionSet={property}");
        package.RunInWork("dotnet", arguments, app);
        string rsp = File.ReadAllText(Path.Combine(app, "obj", "Release", framework, "linux-x64", "native", name + ".ilc.rsp"));
        Assert.Contains($"--instruction-set:{instructionSet}", rsp);

        // The binary needs the CPU to have the level it was compiled for.
        bool cpuHasIt = path == "Vector512" ? Vector512.IsHardwareAccelerated : Avx2.IsSupported && Fma.IsSupported;
        Skip.IfNot(cpuHasIt, $"published ({instructionSet}); this CPU cannot run {path} code");
        string result = package.RunInWork(Path.Combine(publish, name), "", app);
        output.WriteLine(result);
        Assert.StartsWith(path + " loss", result.Trim());
    }

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
