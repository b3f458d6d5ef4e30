using System;
using System.Diagnostics;
using System.IO;
using Xunit;
using Xunit.Abstractions;

namespace GraphGen.Tests.Packaging;

/// <summary>
/// The NuGet package works on its own, not just through ProjectReference: pack GraphGen, then build
/// and run a throwaway consumer project that restores it from a local folder feed (with an empty
/// package cache of its own) and trains a tiny network. The generator must run from the package's
/// analyzers/dotnet/cs folder for the consumer to compile at all.
/// </summary>
public class PackageTests(ITestOutputHelper output)
{
    [Fact]
    public void PackedPackageCompilesAndTrainsAConsumerNetwork()
    {
        string root = RepositoryRoot();
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
        string work = Path.Combine(Path.GetTempPath(), $"graphgen-package-{Guid.NewGuid():N}");
        string version = $"0.1.0-test{DateTime.UtcNow:yyyyMMddHHmmss}";
        try
        {
            string feed = Path.Combine(work, "feed"), app = Path.Combine(work, "app");
            Directory.CreateDirectory(app);
            Run("dotnet", $"pack \"{Path.Combine(root, "runtime", "GraphGen.Runtime.csproj")}\" -c {configuration} --no-build -o \"{feed}\" -p:PackageVersion={version}", root, work);
            Assert.True(File.Exists(Path.Combine(feed, $"GraphGen.{version}.nupkg")));

            File.WriteAllText(Path.Combine(app, "NuGet.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="GraphGen" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using System;
                using GraphGen;

                // Three Gaussian blobs in 4-D: learnable in a few dozen steps.
                var rng = new Random(1);
                int n = 96;
                var x = new float[n * 4];
                var labels = new int[n];
                for (int i = 0; i < n; i++)
                {
                    labels[i] = i % 3;
                    for (int f = 0; f < 4; f++) x[i * 4 + f] = (float)(rng.NextDouble() - 0.5 + (f == labels[i] ? 2 : 0));
                }
                using var net = new Blobs(new NetworkOptions { Seed = 1, MaxBatch = n, Threads = 1 });
                double first = net.TrainStep(x, labels, 0.5f).MeanLoss, last = first;
                for (int step = 0; step < 60; step++) last = net.TrainStep(x, labels, 0.5f).MeanLoss;
                Console.WriteLine($"loss {first:F4} -> {last:F4} on {net.Simd}");
                return last < first * 0.5 ? 0 : 1;

                [Network(Features = 4)]
                [Dense(8)] [BatchNorm] [ReLU]
                [Dense(3)]
                public partial class Blobs { }
                """);
            string result = Run("dotnet", "run -c Release", app, work);
            output.WriteLine(result);
            Assert.Contains("loss ", result);
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    private string Run(string file, string arguments, string directory, string work)
    {
        var start = new ProcessStartInfo(file, arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["NUGET_PACKAGES"] = Path.Combine(work, "packages"); // nothing cached from earlier runs
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(300_000), $"{file} {arguments} did not finish in 5 minutes");
        string text = stdout.Result + stderr.Result;
        if (process.ExitCode != 0) output.WriteLine(text);
        Assert.True(process.ExitCode == 0, $"{file} {arguments} failed with exit code {process.ExitCode}:\n{text}");
        return text;
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "GraphGen.sln"))) return dir.FullName;
        throw new InvalidOperationException("GraphGen.sln not found above " + AppContext.BaseDirectory);
    }
}
