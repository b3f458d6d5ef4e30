using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using Xunit;

namespace GraphGen.Tests.Packaging;

/// <summary>The tests that pack, build and publish: they share one pack and run one at a time (each
/// build uses both cores).</summary>
[CollectionDefinition(Name)]
public sealed class PackagingCollection : ICollectionFixture<PackedPackage>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Packaging";
}

/// <summary>
/// GraphGen packed once, as a release is: <c>dotnet pack</c> with <c>CI=true</c> (a continuous-integration
/// build: deterministic source paths) into an artifacts folder of its own, so it neither reads nor
/// disturbs the solution's bin/ and obj/. Consumers restore it from a local folder feed into a package
/// cache of their own (empty at the start of the run), and everything else from nuget.org.
/// </summary>
public sealed class PackedPackage : IDisposable
{
    /// <summary>The repository root.</summary>
    public string Root { get; } = PackageTests.RepositoryRoot();
    /// <summary>A temporary folder for this run: feed, package cache, consumer projects.</summary>
    public string Work { get; } = Path.Combine(Path.GetTempPath(), $"graphgen-package-{Guid.NewGuid():N}");
    /// <summary>The pack's bin/ and obj/, under the repository (so the CI path map applies to them).</summary>
    public string Artifacts { get; }
    /// <summary>The package version, unique per run so no cache can hold an older GraphGen.</summary>
    public string Version { get; } = $"0.1.0-test{DateTime.UtcNow:yyyyMMddHHmmss}";
    /// <summary>The folder feed that holds the .nupkg and .snupkg.</summary>
    public string Feed => Path.Combine(Work, "feed");
    /// <summary>The consumers' package cache (NUGET_PACKAGES).</summary>
    public string Packages => Path.Combine(Work, "packages");
    /// <summary>The package.</summary>
    public string Nupkg => Path.Combine(Feed, $"GraphGen.{Version}.nupkg");
    /// <summary>The symbol package.</summary>
    public string Snupkg => Path.Combine(Feed, $"GraphGen.{Version}.snupkg");
    /// <summary>What <c>dotnet pack</c> printed.</summary>
    public string PackLog { get; }

    /// <summary>Packs the runtime project (which builds the generator) and writes the consumers' NuGet.config.</summary>
    public PackedPackage()
    {
        Artifacts = Path.Combine(Root, "artifacts", $"package-test-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Work);
        PackLog = Run("dotnet", $"pack \"{Path.Combine(Root, "runtime", "GraphGen.Runtime.csproj")}\" -c Release --artifacts-path \"{Artifacts}\" -o \"{Feed}\" -p:PackageVersion={Version}",
            Root, new() { ["CI"] = "true" });
        // Projects under Work find this file first: GraphGen from the feed only, the rest from nuget.org.
        File.WriteAllText(Path.Combine(Work, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local"><package pattern="GraphGen" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
    }

    /// <summary>Writes a consumer project (<paramref name="name"/>/<paramref name="name"/>.csproj and
    /// Program.cs) under <see cref="Work"/> and returns its folder.</summary>
    public string CreateConsumer(string name, string projectBody, string program)
    {
        string dir = Path.Combine(Work, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
            {projectBody}
              <ItemGroup>
                <PackageReference Include="GraphGen" Version="{Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), program);
        return dir;
    }

    /// <summary>Runs a command with the consumers' package cache; fails the test, with the output, unless it exits 0.</summary>
    public string RunInWork(string file, string arguments, string directory) =>
        Run(file, arguments, directory, new() { ["NUGET_PACKAGES"] = Packages });

    /// <summary>Runs a command to completion (10 minutes at most) and returns its output; fails the test,
    /// with the output, unless it exits 0.</summary>
    public static string Run(string file, string arguments, string directory, Dictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file, arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? []) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(600_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {arguments} did not finish in 10 minutes");
        }
        string text = stdout.Result + stderr.Result;
        Assert.True(process.ExitCode == 0, $"{file} {arguments} failed with exit code {process.ExitCode}:\n{text}");
        return text;
    }

    /// <summary>Removes the temporary folder and the artifacts.</summary>
    public void Dispose()
    {
        foreach (string dir in new[] { Work, Artifacts })
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
