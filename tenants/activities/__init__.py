"""活動状況: the network's meetings, study sessions and guidebook work, as the desk records them."""
