using System;
using System.Diagnostics;
using System.IO;
using GraphGen.Data;

namespace GraphGen.Samples;

/// <summary>Makes sure FashionMNIST is there: on Debian it is the package dataset-fashion-mnist, which
/// this installs (as root, or through passwordless sudo) when the default directory is missing.</summary>
internal static class DataSetup
{
    public static void Ensure(string? directory, bool allowInstall, Action<string> log)
    {
        if (FashionMnist.IsInstalled(directory)) return;
        bool isDefault = directory is null && Environment.GetEnvironmentVariable(FashionMnist.DirectoryVariable) is null;
        if (!isDefault || !allowInstall || !File.Exists("/usr/bin/apt-get")) return; // the loader's error says what to do
        bool root = Environment.UserName == "root";
        string command = (root ? "" : "sudo -n ") + "apt-get -o DPkg::Lock::Timeout=300 install -y -q dataset-fashion-mnist";
        log($"FashionMNIST is not in {FashionMnist.DefaultDirectory}; installing it: {command}");
        Run(root ? "apt-get" : "sudo", (root ? "" : "-n apt-get ") + "-o DPkg::Lock::Timeout=300 install -y -q dataset-fashion-mnist", log);
        if (!FashionMnist.IsInstalled(directory))
        {
            // Package lists may be missing on a fresh machine.
            Run(root ? "apt-get" : "sudo", (root ? "" : "-n apt-get ") + "update -q", log);
            Run(root ? "apt-get" : "sudo", (root ? "" : "-n apt-get ") + "-o DPkg::Lock::Timeout=300 install -y -q dataset-fashion-mnist", log);
        }
    }

    private static void Run(string file, string arguments, Action<string> log)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true });
            if (p is null) return;
            string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) log($"  {file} {arguments} failed (exit {p.ExitCode}): {output.Trim().Split('\n')[^1]}");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            log($"  could not run {file}: {e.Message}");
        }
    }
}
