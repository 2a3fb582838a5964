using Dso.Injection.Compose;
using Dso.Injection.Engine;
using Dso.Injection.References;

namespace Dso.Injection.Planning;

/// <summary>What one service needs: its references, who owns its files, and what its image runs.</summary>
internal sealed record ServicePlan(ComposeService Service, IReadOnlyList<ServiceReference> References, ServiceOwner Owner, ImageConfig Image);
