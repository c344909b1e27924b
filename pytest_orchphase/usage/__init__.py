"""How much a phase spent, and where: hand-kept accounts, measured calls attributed to
planning, a ticket's stages or nobody, and their dollar cost."""
