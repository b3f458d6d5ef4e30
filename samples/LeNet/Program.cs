using System;
using GraphGen.Samples;

using var net = new LeNet(seed: 1);
Console.WriteLine(net.Summary());
Console.WriteLine(net.Simd);
