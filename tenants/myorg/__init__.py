"""自分の団体: a member user keeps its own organisation's entry current.

Public details apply at once; changes to the name or category wait for the
desk's approval (``OrganizationChangeRequest``).
"""
