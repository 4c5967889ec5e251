"""The plan as data: the rule language, the policies/ files, vocabularies, the catalogue and its
checks, the profile.
"""
